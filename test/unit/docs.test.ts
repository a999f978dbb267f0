import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS, SETTINGS, SETTINGS_SECTION } from '../../client/src/contributions';
import { DIAGNOSTIC_CODES } from '../../server/src/experiment/diagnostics';
import { METHOD_FORMATS } from '../../server/src/experiment/methods';
import { ROOT } from '../helpers/experimentFixtures';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const marketplace = readFileSync(join(ROOT, 'docs', 'marketplace.md'), 'utf8');

describe('the README moves with the code', () => {
  it('documents every diagnostic code with its level and severity', () => {
    for (const [code, info] of Object.entries(DIAGNOSTIC_CODES))
      assert.ok(readme.includes(`| \`${code}\` | ${info.level} | ${info.severity} |`), code);
  });

  it('lists every command and setting', () => {
    for (const id of Object.keys(COMMANDS)) assert.ok(readme.includes(`\`${id}\``), id);
    for (const key of Object.keys(SETTINGS)) assert.ok(readme.includes(`\`${SETTINGS_SECTION}.${key}\``), key);
  });

  it('lists every pruning method in the sample file', () => {
    assert.ok(readme.includes(`  method: sapp # ${Object.keys(METHOD_FORMATS).join(' | ')}\n`));
  });
});

describe('the Marketplace page (docs/marketplace.md) moves with the code', () => {
  it('lists every setting, and shows pictures that exist next to it', () => {
    for (const key of Object.keys(SETTINGS)) assert.ok(marketplace.includes(`\`${SETTINGS_SECTION}.${key}\``), key);
    const images = [...marketplace.matchAll(/!\[[^\]]+\]\(([^)]+)\)/g)].map((m) => m[1]!);
    assert.ok(images.length >= 5, `${images.length} screenshots`);
    for (const image of images) {
      assert.match(image, /^images\/[\w-]+\.png$/, 'relative to docs/, as `npm run package` rewrites them');
      assert.ok(existsSync(join(ROOT, 'docs', image)), image);
    }
  });

  it('gives the GPU install command at the bundled tfjs-core version, with the CUDA requirement', () => {
    const core = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
    ).devDependencies['@tensorflow/tfjs-core'];
    for (const doc of [marketplace, readme]) {
      assert.ok(doc.includes(`npm install @tensorflow/tfjs-node-gpu@${core}`), 'the pinned install command');
      assert.match(doc, /CUDA 11\.2 and cuDNN 8\.1/);
    }
  });
});
