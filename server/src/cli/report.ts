/**
 * `sparsity-studio report RUN_DIR|SWEEP_DIR [--out FILE]`: a self-contained HTML report of one run
 * or of a sweep, and `sparsity-studio compare RUN_DIR|SWEEP_DIR...`: a table of runs side by side
 * (a sweep folder stands for its runs), as text, JSON, CSV or the Markdown the editor's compare
 * panel exports.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReport } from '../runs/htmlReport';
import { comparison, comparisonRows, formatCell } from '../runs/runComparison';
import { loadRun, type LoadedRun } from '../runs/runReader';
import { renderSweepReport } from '../runs/sweepReport';
import { isSweepFolder } from '../runs/sweepStore';
import { loadSweep, summarizeSweep } from '../runs/sweepSummary';
import type { CommandSpec } from './args';
import type { CliIo, ParsedCommand } from './io';

export const REPORT: CommandSpec = {
  name: 'report',
  summary: 'Write a self-contained HTML report of one run, or of a sweep (and each of its runs).',
  positionals: { names: 'RUN_DIR|SWEEP_DIR', min: 1, max: 1 },
  options: {
    out: { type: 'string', value: 'FILE.html', description: 'Where to write (default: DIR/report.html).' },
  },
  notes: ['exit status: 0 written, 1 not a readable run or sweep folder, 2 bad usage.'],
};

const COMPARE_FORMATS = ['text', 'json', 'csv', 'markdown'] as const;

export const COMPARE: CommandSpec = {
  name: 'compare',
  summary:
    'Compare several runs in one table: final results, and the config keys that differ (markdown); a sweep folder stands for its runs.',
  positionals: { names: 'RUN_DIR|SWEEP_DIR...', min: 1, max: Infinity },
  options: {
    format: {
      type: 'string',
      choices: COMPARE_FORMATS,
      description:
        'text (default): aligned columns; json: one object per run; csv: a header and one row per run; markdown: the table and the config differences.',
    },
  },
  notes: ['exit status: 0 printed, 1 a folder is not a readable run, 2 bad usage.'],
};

export function reportCommand({ options, positionals }: ParsedCommand, io: CliIo): number {
  const dir = positionals[0]!;
  const out = options['out'] as string | undefined;
  if (isSweepFolder(dir)) return sweepReport(dir, out, io);
  const file = out ?? join(dir, 'report.html');
  let html: string;
  try {
    // Rendering reads the snapshots too: any refusal is one line naming the file.
    html = renderReport(loadRun(dir));
  } catch (error) {
    io.error(`sparsity-studio report: ${(error as Error).message}`);
    return 1;
  }
  try {
    writeFileSync(file, html);
  } catch (error) {
    io.error(`sparsity-studio report: cannot write ${file}: ${(error as Error).message}`);
    return 1;
  }
  io.out(`report: ${file}`);
  return 0;
}

/** A sweep's report, and each run's own beside it (the sweep report links them). */
function sweepReport(dir: string, out: string | undefined, io: CliIo): number {
  const file = out ?? join(dir, 'report.html');
  try {
    const summary = summarizeSweep(loadSweep(dir));
    for (const run of summary.runs)
      if (existsSync(join(run.runDir, 'run.json')))
        writeFileSync(join(run.runDir, 'report.html'), renderReport(loadRun(run.runDir)));
    writeFileSync(file, renderSweepReport(summary));
  } catch (error) {
    io.error(`sparsity-studio report: ${(error as Error).message}`);
    return 1;
  }
  io.out(`report: ${file}`);
  return 0;
}

/** The run folders of a compare argument: itself, or every started run of a sweep folder. */
function runFolders(dir: string): string[] {
  if (!isSweepFolder(dir)) return [dir];
  const sweep = loadSweep(dir);
  return sweep.info.runs.flatMap((entry, i) => (sweep.runs[i] ? [join(sweep.dir, entry.dir)] : []));
}

export function compareCommand({ options, positionals: dirs }: ParsedCommand, io: CliIo): number {
  const format = (options['format'] as (typeof COMPARE_FORMATS)[number] | undefined) ?? 'text';
  const runs: LoadedRun[] = [];
  for (const dir of dirs) {
    try {
      for (const runDir of runFolders(dir)) runs.push(loadRun(runDir));
    } catch (error) {
      io.error(`sparsity-studio compare: ${(error as Error).message}`);
      return 1;
    }
  }
  if (runs.length === 0) {
    io.error(`sparsity-studio compare: no run has started in ${dirs.join(', ')}`);
    return 1;
  }
  const rows = comparisonRows(runs);
  if (format === 'json') {
    io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (format === 'markdown') {
    io.out(comparison(runs).markdown.trimEnd());
    return 0;
  }
  const columns = Object.keys(rows[0]!);
  if (format === 'csv') {
    // Raw values (not the table's formatted cells), so a spreadsheet gets numbers.
    const field = (v: string | number | null | undefined) => {
      const text = v === null || v === undefined ? '' : String(v);
      return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    io.out(columns.map(field).join(','));
    for (const r of rows) io.out(columns.map((c) => field(r[c])).join(','));
    return 0;
  }
  const show = (v: string | number | null, key: string) => formatCell(key, v);
  const cells = rows.map((r) => columns.map((c) => show(r[c] ?? null, c)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  io.out(columns.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  for (const row of cells) io.out(row.map((v, i) => v.padEnd(widths[i]!)).join('  '));
  return 0;
}
