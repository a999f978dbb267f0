/**
 * The long fuzz: at least 10,000 seeded mutated configs (test/helpers/configFuzz.ts: the editing
 * accidents plus paths to special files, sizes that cannot fit, thousands of keys, other
 * encodings) through `check` (its own process) and the language server (a real client): no crash,
 * no hang, no answer slower than a second. The default suite runs a 180-config slice of it
 * (test/lsp/fuzz.test.ts). Needs `npm run build` (dist/server.js).
 *
 *   node --import tsx bench/fuzz.bench.ts [configs, default 10000] [first seed, default 1]
 *
 * Prints the latency of `check` and of the server's answers (p50, p99, max) and every slow
 * answer, crash or hang; exits 1 when there is any. Measured on a shared machine, so slow answers
 * come with the mutations that caused them, to be rerun alone.
 */
import { readFileSync } from 'node:fs';
import { FuzzWorkspace } from '../test/helpers/configFuzz';
import { sampleFiles } from '../test/helpers/experimentFixtures';
import { percentiles, runFuzz, type FuzzReport } from '../test/helpers/fuzzDriver';
import { LspTestClient } from '../test/helpers/lspClient';

const TOTAL = Number(process.argv[2] ?? 10_000);
const FIRST_SEED = Number(process.argv[3] ?? 1);
const PER_SEED = 500;

async function main(): Promise<number> {
  const workspace = new FuzzWorkspace();
  const client = new LspTestClient();
  await client.initialize({}, { trusted: true }, workspace.dir);
  const samples = sampleFiles().map((f) => readFileSync(f, 'utf8'));
  const all: FuzzReport = { cases: 0, checkMs: [], lspMs: [], slow: [], failures: [], codes: new Map() };
  const started = performance.now();
  try {
    for (let seed = FIRST_SEED; all.cases < TOTAL && all.failures.length === 0; seed++) {
      const report = await runFuzz({
        seed,
        cases: Math.min(PER_SEED, TOTAL - all.cases),
        samples,
        workspace,
        client,
      });
      all.cases += report.cases;
      all.checkMs.push(...report.checkMs);
      all.lspMs.push(...report.lspMs);
      all.slow.push(...report.slow);
      all.failures.push(...report.failures);
      for (const [code, n] of report.codes) all.codes.set(code, (all.codes.get(code) ?? 0) + n);
      const [p50, p99, max] = percentiles(all.lspMs);
      process.stderr.write(
        `  ${all.cases}/${TOTAL} configs, ${((performance.now() - started) / 1000).toFixed(0)} s; server p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(0)} ms\n`,
      );
    }
  } finally {
    if (client.alive) await client.shutdown();
    workspace.dispose();
  }
  const line = (what: string, ms: number[]) => {
    const [p50, p99, max] = percentiles(ms);
    return `${what.padEnd(30)} ${String(ms.length).padStart(7)}  p50 ${p50.toFixed(1).padStart(7)} ms  p99 ${p99.toFixed(1).padStart(7)} ms  max ${max.toFixed(0).padStart(5)} ms`;
  };
  console.log(
    `fuzz: ${all.cases} configs from seed ${FIRST_SEED} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(line('check (one file, own process)', all.checkMs));
  console.log(line('language server answers', all.lspMs));
  console.log(
    `codes reported by check: ${[...all.codes.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}`,
  );
  console.log(
    `slower than 1 s: ${all.slow.length}${all.slow.length ? `\n  ${all.slow.slice(0, 20).join('\n  ')}` : ''}`,
  );
  console.log(
    `crashes, hangs, internal errors: ${all.failures.length}${all.failures.length ? `\n  ${all.failures.slice(0, 20).join('\n  ')}` : ''}`,
  );
  return all.failures.length === 0 && all.slow.length === 0 && all.cases >= TOTAL ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
