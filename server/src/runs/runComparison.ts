/**
 * Several runs side by side: one row of final results per run and the config keys whose values
 * differ between them. Shared by `sparsity-studio compare` and the editor's Compare Runs.
 */
import type { RunCompareResult } from '@protocol';
import type { LoadedRun } from './runReader';

export type ComparisonRow = Record<string, string | number | null>;

export function comparisonRows(runs: LoadedRun[]): ComparisonRow[] {
  return runs.map(({ info }) => {
    const m = info.final?.metrics;
    return {
      run: info.id,
      method: info.method,
      seed: info.seed,
      status: info.status,
      steps: info.step,
      accuracy: m?.accuracy ?? null,
      log_loss: m?.log_loss ?? null,
      auc: m?.auc ?? null,
      support_precision: m?.support_precision ?? null,
      support_precision_chance: m?.support_precision_chance ?? null,
      global_sparsity: info.final?.sparsity.global ?? null,
      step_ms: info.timing.step_ms_median,
      backend: info.backend.name,
    };
  });
}

/** A cell as text: fractions as percentages, losses, AUC and support precision to 4 places. */
export function formatCell(key: string, v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'number') return String(v);
  if (key === 'log_loss' || key === 'auc' || key.startsWith('support_precision')) return v.toFixed(4);
  if (key === 'accuracy' || key === 'global_sparsity') return `${(100 * v).toFixed(2)}%`;
  if (key === 'step_ms') return v.toFixed(1);
  return String(v);
}

/** Dotted config paths whose values differ between the runs, with each run's value. */
export function configDifferences(runs: LoadedRun[]): { path: string; values: string[] }[] {
  const flat = runs.map((r) => flatten(r.config));
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  return paths
    .map((path) => ({ path, values: flat.map((f) => f.get(path) ?? '(absent)') }))
    .filter((d) => new Set(d.values).size > 1 && d.path !== 'name');
}

function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.set(prefix, JSON.stringify(value));
  return out;
}

/** The comparison as the editor's compare panel takes it: formatted table, differences, Markdown. */
export function comparison(runs: LoadedRun[]): RunCompareResult {
  const rows = comparisonRows(runs);
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((r) => columns.map((c) => formatCell(c, r[c])));
  const differences = configDifferences(runs);
  return { columns, rows: cells, differences, markdown: comparisonMarkdown(columns, cells, differences) };
}

/** The comparison as Markdown: the results table, then the config differences. */
function comparisonMarkdown(
  columns: string[],
  cells: string[][],
  differences: RunCompareResult['differences'],
): string {
  const lines = [
    `# Comparison of ${cells.length} runs`,
    '',
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => ' --- |').join('')}`,
    ...cells.map((r) => `| ${r.join(' | ')} |`),
    '',
    '## Config differences',
    '',
  ];
  if (differences.length === 0) lines.push('The runs have the same config (apart from their names).');
  else {
    lines.push(`| key | ${cells.map((r) => r[0]).join(' | ')} |`, `| --- |${cells.map(() => ' --- |').join('')}`);
    for (const d of differences) lines.push(`| \`${d.path}\` | ${d.values.map((v) => `\`${v}\``).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
