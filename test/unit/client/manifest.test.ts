import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMAND_IDS, EXPERIMENT_TEMPLATE_KINDS, LENS_COMMANDS, MODULE_PATHS_SETTING } from '@protocol';
import {
  COMMAND_CATEGORY,
  COMMANDS,
  LANGUAGE_ID,
  SETTINGS,
  SETTINGS_SECTION,
  TEMPLATE_DESCRIPTIONS,
} from '../../../client/src/contributions';
import { ROOT } from '../../helpers/experimentFixtures';

interface Manifest {
  main: string;
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    configuration: {
      properties: Record<
        string,
        { default?: unknown; markdownDescription?: string; enum?: unknown[]; enumDescriptions?: string[] }
      >;
    };
    languages: { id: string; configuration: string; filenamePatterns: string[] }[];
    grammars: { language: string; path: string }[];
    walkthroughs: {
      steps: { id: string; description: string; media: { markdown: string }; completionEvents: string[] }[];
    }[];
  };
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

describe('package.json contributions match the code', () => {
  it('declares exactly the commands of the COMMANDS table, each titled and in the category', () => {
    const declared = manifest.contributes.commands;
    assert.deepEqual(declared.map((c) => c.command).sort(), Object.keys(COMMANDS).sort());
    for (const c of declared) {
      assert.equal(c.title, COMMANDS[c.command as keyof typeof COMMANDS], c.command);
      assert.equal(c.category, COMMAND_CATEGORY, c.command);
    }
  });

  it("the client registers exactly the command ids of protocol/, and the server's lenses name only those", () => {
    const ids = Object.values(COMMAND_IDS).sort();
    assert.deepEqual(Object.keys(COMMANDS).sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
    const declared = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const id of LENS_COMMANDS) assert.ok(declared.has(id), `a code lens names ${id}, which package.json lacks`);
  });

  it('offers exactly the template kinds of protocol/, with the descriptions of the pick list', () => {
    const property = manifest.contributes.configuration.properties[`${SETTINGS_SECTION}.newExperiment.template`]!;
    assert.deepEqual(property.enum, [...EXPERIMENT_TEMPLATE_KINDS]);
    assert.deepEqual(
      property.enumDescriptions,
      EXPERIMENT_TEMPLATE_KINDS.map((k) => `${TEMPLATE_DESCRIPTIONS[k]}.`),
    );
    assert.ok(EXPERIMENT_TEMPLATE_KINDS.includes(SETTINGS['newExperiment.template']));
  });

  it('declares exactly the settings the code reads, with the same defaults and docs', () => {
    const properties = manifest.contributes.configuration.properties;
    assert.deepEqual(
      Object.keys(properties).sort(),
      Object.keys(SETTINGS)
        .map((k) => `${SETTINGS_SECTION}.${k}`)
        .sort(),
    );
    for (const [key, value] of Object.entries(SETTINGS)) {
      const property = properties[`${SETTINGS_SECTION}.${key}`]!;
      assert.deepEqual(property.default, value, key);
      assert.ok(property.markdownDescription, key);
    }
  });

  it('the server reads the module paths setting the client declares, restricted in untrusted workspaces', () => {
    assert.ok(`${SETTINGS_SECTION}.engine.modulePaths` === MODULE_PATHS_SETTING);
    assert.ok(MODULE_PATHS_SETTING in manifest.contributes.configuration.properties);
    const capabilities = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        capabilities: { untrustedWorkspaces: { restrictedConfigurations?: string[] } };
      }
    ).capabilities;
    assert.deepEqual(capabilities.untrustedWorkspaces.restrictedConfigurations, [MODULE_PATHS_SETTING]);
  });

  it('contributes the language with its configuration and grammar files present', () => {
    const language = manifest.contributes.languages.find((l) => l.id === LANGUAGE_ID)!;
    assert.deepEqual(language.filenamePatterns, ['*.prune.yaml', '*.prune.yml']);
    const config = JSON.parse(readFileSync(join(ROOT, language.configuration), 'utf8')) as {
      comments: { lineComment: string };
    };
    assert.equal(config.comments.lineComment, '#');
    const grammar = manifest.contributes.grammars.find((g) => g.language === LANGUAGE_ID)!;
    const tm = JSON.parse(readFileSync(join(ROOT, grammar.path), 'utf8')) as { scopeName: string };
    assert.equal(tm.scopeName, 'source.prune-yaml');
    assert.equal(manifest.main, './dist/client.js');
    assert.ok(existsSync(join(ROOT, 'client', 'src', 'extension.ts')));
  });

  it('walkthrough steps have their markdown, and every command they name exists in the .vsix it ships in', () => {
    const ignore = readFileSync(join(ROOT, '.vscodeignore'), 'utf8');
    assert.match(ignore, /^!media\/\*\*$/m, 'media/ is packaged');
    const steps = manifest.contributes.walkthroughs.flatMap((w) => w.steps);
    assert.ok(steps.length >= 5);
    for (const step of steps) {
      assert.ok(existsSync(join(ROOT, step.media.markdown)), step.media.markdown);
      const named = [
        ...step.description.matchAll(/\(command:([\w.]+)\)/g),
        ...step.completionEvents.join(' ').matchAll(/onCommand:([\w.]+)/g),
      ].map((m) => m[1]!);
      assert.ok(named.length > 0, step.id);
      for (const command of named)
        assert.ok(command in COMMANDS, `${step.id} names ${command}, which is not a contributed command`);
    }
  });
});
