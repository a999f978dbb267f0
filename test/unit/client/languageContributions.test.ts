/**
 * The grammar and the language configuration are JSON that VS Code only reads at run time: check
 * here that every rule is reachable, every pattern compiles, and the rules that matter for a
 * `*.prune.yaml` file match what they should (keys, choices, numbers, comments, indentation).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../helpers/experimentFixtures';

interface Rule {
  match?: string;
  begin?: string;
  end?: string;
  include?: string;
  name?: string;
  patterns?: Rule[];
  captures?: Record<string, { name: string }>;
}

const grammar = JSON.parse(readFileSync(join(ROOT, 'client', 'syntaxes', 'prune-yaml.tmLanguage.json'), 'utf8')) as {
  scopeName: string;
  patterns: Rule[];
  repository: Record<string, Rule>;
};
const languageConfig = JSON.parse(readFileSync(join(ROOT, 'client', 'language-configuration.json'), 'utf8')) as {
  brackets: [string, string][];
  autoClosingPairs: { open: string; close: string }[];
  indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
  onEnterRules: { beforeText: string; action: { indent: string; appendText?: string } }[];
};

function allRules(rules: Rule[]): Rule[] {
  return rules.flatMap((r) => [r, ...allRules(r.patterns ?? [])]);
}

/** TextMate patterns are Oniguruma; the ones used here are also valid JavaScript. */
const regex = (source: string) => new RegExp(source, 'd');

/** The scopes a single-line `match` rule of the repository gives to `line`, by capture group. */
function scopesOf(ruleName: string, line: string): string[] {
  const rule = grammar.repository[ruleName]!;
  const m = regex(rule.match!).exec(line);
  if (!m) return [];
  return Object.entries(rule.captures ?? {})
    .filter(([group]) => m[Number(group)] !== undefined)
    .map(([group, { name }]) => `${m[Number(group)]}=${name.replace(/\.prune-yaml$/, '')}`);
}

describe('the prune-yaml grammar', () => {
  it('includes only rules it defines, and every pattern compiles', () => {
    const rules = [...allRules(grammar.patterns), ...Object.values(grammar.repository).flatMap((r) => allRules([r]))];
    for (const rule of rules) {
      if (rule.include) assert.ok(grammar.repository[rule.include.slice(1)], rule.include);
      for (const source of [rule.match, rule.begin, rule.end]) if (source) assert.doesNotThrow(() => regex(source));
    }
    const included = new Set(rules.filter((r) => r.include).map((r) => r.include!.slice(1)));
    for (const name of Object.keys(grammar.repository)) assert.ok(included.has(name), `#${name} is used`);
  });

  it('scopes keys, the variant-choosing values, and comments', () => {
    assert.deepEqual(scopesOf('pair', '  learning_rate: 0.001'), [
      'learning_rate=entity.name.tag.key',
      ':=punctuation.separator.key-value',
    ]);
    assert.deepEqual(scopesOf('choice', '  method: sapp # the paper'), [
      'method=entity.name.tag.key',
      ':=punctuation.separator.key-value',
      'sapp=support.constant.choice',
    ]);
    assert.deepEqual(scopesOf('comment', 'block: 8 # square blocks'), ['# square blocks=comment.line.number-sign']);
    assert.deepEqual(scopesOf('comment', 'path: ./data#1'), [], 'a # inside a value is not a comment');
  });

  it('scopes numbers, booleans and null as values, not inside words', () => {
    const values = grammar.repository.value!.patterns!;
    const scopeOf = (text: string) =>
      values.find((p) => p.match && regex(`^(?:${p.match})$`).test(text))?.name?.replace(/\.prune-yaml$/, '');
    assert.equal(scopeOf('0.9'), 'constant.numeric');
    assert.equal(scopeOf('1e-4'), 'constant.numeric');
    assert.equal(scopeOf('true'), 'constant.language');
    assert.equal(scopeOf('null'), 'constant.language');
    assert.equal(scopeOf('.inf'), 'constant.numeric');
  });
});

describe('the prune-yaml language defaults', () => {
  it('turns quick suggestions on in strings, since a key being typed is a plain-scalar string token', () => {
    const plain = grammar.repository.value!.patterns!.find((p) => p.name === 'string.unquoted.prune-yaml')!;
    assert.ok(regex(plain.match!).test('ex'), 'a bare word is scoped as a string');
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configurationDefaults: Record<string, Record<string, { strings?: string }>> };
    };
    assert.equal(
      manifest.contributes.configurationDefaults['[prune-yaml]']?.['editor.quickSuggestions']?.strings,
      'on',
    );
  });
});

describe('the prune-yaml language configuration', () => {
  it('pairs and auto-closes [] {} "" and \'\'', () => {
    assert.deepEqual(languageConfig.brackets, [
      ['{', '}'],
      ['[', ']'],
    ]);
    assert.deepEqual(languageConfig.autoClosingPairs.map((p) => p.open + p.close).sort(), ['""', "''", '[]', '{}']);
  });

  it('indents after a mapping key and continues a list on Enter', () => {
    const increase = regex(languageConfig.indentationRules.increaseIndentPattern);
    assert.ok(increase.test('pruning:'));
    assert.ok(increase.test('  schedule:'));
    assert.ok(!increase.test('  sparsity: 0.9'));
    const [afterKey, afterItem] = languageConfig.onEnterRules;
    assert.ok(regex(afterKey!.beforeText).test('model: # the network'));
    assert.equal(afterKey!.action.indent, 'indent');
    assert.ok(regex(afterItem!.beforeText).test('  - dense_1'));
    assert.equal(afterItem!.action.appendText, '- ');
  });
});
