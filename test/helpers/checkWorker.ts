/**
 * `check` in a process of its own for the fuzz: reads one file path per line on stdin, checks it
 * with the CLI's `checkFiles`, and answers one JSON line `{ ms, records, codes }` per file. The
 * parent kills it when an answer does not come: a blocked check fails the fuzz instead of hanging it.
 */
import { createInterface } from 'node:readline';
import { checkFiles } from '../../server/src/cli/check';

const lines = createInterface({ input: process.stdin });
lines.on('line', (file) => {
  const started = performance.now();
  const records = checkFiles([file]);
  const ms = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({ ms, records: records.length, codes: [...new Set(records.map((r) => r.code))] })}\n`,
  );
});
