/**
 * `sparsity-studio report RUN_DIR [--out FILE]`: a self-contained HTML report of one run, and
 * `sparsity-studio compare RUN_DIR...`: a table of several runs side by side.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReport } from '../runs/htmlReport';
import { comparisonRows, formatCell } from '../runs/runComparison';
import { loadRun, type LoadedRun } from '../runs/runReader';
import type { CliIo } from './io';

export const REPORT_USAGE = 'sparsity-studio report RUN_DIR [--out FILE.html]';
export const COMPARE_USAGE = 'sparsity-studio compare RUN_DIR... [--format text|json]';

export function reportCommand(args: string[], io: CliIo): number {
  const [dir, flag, out] = args;
  if (!dir || (flag !== undefined && (flag !== '--out' || !out))) {
    io.error(`usage: ${REPORT_USAGE}`);
    return 2;
  }
  let run: LoadedRun;
  try {
    run = loadRun(dir);
  } catch (error) {
    io.error(`sparsity-studio report: ${(error as Error).message}`);
    return 1;
  }
  const file = out ?? join(dir, 'report.html');
  writeFileSync(file, renderReport(run));
  io.out(`report: ${file}`);
  return 0;
}

export function compareCommand(args: string[], io: CliIo): number {
  const json = args.includes('--format') && args[args.indexOf('--format') + 1] === 'json';
  const dirs = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--format');
  if (dirs.length === 0) {
    io.error(`usage: ${COMPARE_USAGE}`);
    return 2;
  }
  const runs: LoadedRun[] = [];
  for (const dir of dirs) {
    try {
      runs.push(loadRun(dir));
    } catch (error) {
      io.error(`sparsity-studio compare: ${(error as Error).message}`);
      return 1;
    }
  }
  const rows = comparisonRows(runs);
  if (json) {
    io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  const columns = Object.keys(rows[0]!);
  const show = (v: string | number | null, key: string) => formatCell(key, v);
  const cells = rows.map((r) => columns.map((c) => show(r[c] ?? null, c)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  io.out(columns.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  for (const row of cells) io.out(row.map((v, i) => v.padEnd(widths[i]!)).join('  '));
  return 0;
}
