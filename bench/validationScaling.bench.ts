/**
 * How validation time grows with the number of unknown keys (and duplicate keys): the same sample
 * with 2,500, 5,000, 10,000 and 20,000 of them, each size measured in alternating rounds, printed
 * as the time per key relative to the smallest size. Linear work keeps the ratio near 1; the old
 * code (each key compared with every other) doubled it with every doubling (10k keys took 13 s).
 *
 *   node --import tsx bench/validationScaling.bench.ts [rounds]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeHost } from '../server/src/data/nodeHost';
import { validateExperiment } from '../server/src/experiment/validate';

const ROUNDS = Number(process.argv[2] ?? 3);
const samples = join(__dirname, '..', 'samples');
const base = readFileSync(join(samples, 'teacher-sapp.prune.yaml'), 'utf8');
const sizes = [2_500, 5_000, 10_000, 20_000];
const files = new Map(
  sizes.map((n) => [
    n,
    `${base}${Array.from({ length: n }, (_, i) => `unknown_key_${i % (n - 100)}: ${i}`).join('\n')}\n`,
  ]),
);

const times = new Map<number, number[]>(sizes.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const n of sizes) {
    const started = performance.now();
    const result = validateExperiment(files.get(n)!, nodeHost(samples));
    times.get(n)!.push(performance.now() - started);
    if (result.diagnostics.length < n - 100) throw new Error(`${n}: only ${result.diagnostics.length} diagnostics`);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perKey = (n: number) => median(times.get(n)!) / n;
console.log(`validation of a sample with N unknown keys (100 of them duplicated), median of ${ROUNDS} rounds`);
for (const n of sizes)
  console.log(
    `  N=${String(n).padStart(6)}  ${median(times.get(n)!).toFixed(0).padStart(6)} ms  time per key vs N=${sizes[0]}: ${(perKey(n) / perKey(sizes[0]!)).toFixed(2)}`,
  );
console.log('(near 1 at every size: linear; doubling with N: quadratic)');
