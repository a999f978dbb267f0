/**
 * Writes `samples/data/criteo-sample.tsv`: Criteo-format click lines from a seeded planted
 * logistic teacher (server/src/data/syntheticCtr.ts), so a CTR model can learn from it.
 * Real Criteo logs cannot be downloaded here.
 *   npx tsx scripts/makeCriteoSample.ts [--lines 20000] [--seed 1] [--out samples/data/criteo-sample.tsv]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { criteoSampleLines } from '../server/src/data/syntheticCtr';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(__dirname, '..', 'samples', 'data', 'criteo-sample.tsv') },
  },
});
const lines = Number(values.lines);
const seed = Number(values.seed);
if (!Number.isInteger(lines) || lines < 1 || !Number.isInteger(seed) || seed < 0) {
  console.error('usage: makeCriteoSample.ts [--lines N>0] [--seed N>=0] [--out FILE]');
  process.exit(2);
}
writeFileSync(values.out, [...criteoSampleLines(lines, seed)].join('\n') + '\n');
console.log(`wrote ${lines} lines to ${values.out}`);
