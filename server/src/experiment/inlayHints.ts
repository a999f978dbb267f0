/**
 * Inlay hints: after `block`, the blocks and kept blocks of each pruned layer; after `sparsity`,
 * the resulting global sparsity; after each schedule fraction, the steps it becomes (for
 * `sparse_share`, the sparse steps of each cycle), and after `schedule` by how much they miss the
 * run's steps when they do not add up to 1; after `sweep:`, the number of runs.
 */
import { isRecord } from './jsonSchema';
import { methodFormat } from './methods';
import type { ValidationResult } from './validate';
import type { Position } from './yamlDocument';

export interface InlayHintEntry {
  position: Position;
  label: string;
  tooltip?: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1).replace(/\.0$/, '')}%`;

export function inlayHints(result: ValidationResult, fromLine = 0, toLine = Number.MAX_SAFE_INTEGER): InlayHintEntry[] {
  const { analysis, document: doc } = result;
  const hints: InlayHintEntry[] = [];
  // After `sweep:`, how many runs the grid makes.
  const sweepKey = doc.locate(['sweep'])?.key;
  if (result.sweep && result.sweep.axes.length > 0 && sweepKey) {
    const line = doc.lines.positionAt(sweepKey.end).line;
    const { runs, axes } = result.sweep;
    if (line >= fromLine && line <= toLine)
      hints.push({
        position: { line, character: doc.lines.lineText(line).replace(/\s*(#.*)?$/, '').length },
        label: ` ${runs} run${runs === 1 ? '' : 's'}`,
        tooltip: axes.map((a) => `${a.path}: ${a.values.length} values`).join('\n'),
      });
  }
  if (!analysis) return hints;
  const after = (path: (string | number)[], label: string, tooltip?: string) => {
    const span = doc.locate(path)?.value;
    if (!span) return;
    const position = doc.lines.positionAt(span.end);
    if (position.line >= fromLine && position.line <= toLine) hints.push({ position, label, tooltip });
  };
  const plan = analysis.plan;
  if (plan && methodFormat(analysis.config.pruning).prunes) {
    const pruned = plan.layers.filter((l) => l.status === 'pruned');
    if (pruned.length > 0) {
      const label = pruned.map((l) => `${l.name}: ${l.keptBlocks}/${l.blocks}`).join(' · ');
      const tooltip = pruned
        .map((l) => `${l.name} ${l.rows}x${l.cols}: ${l.gridRows}x${l.gridCols} blocks, ${l.keptBlocks} kept`)
        .join('\n');
      after(['pruning', 'block'], ` kept blocks ${label}`, tooltip);
    }
    after(['pruning', 'sparsity'], ` ${pct(plan.globalSparsity)} of all kernel weights`);
  }
  const schedule = analysis.schedule;
  const written =
    doc.value && isRecord(doc.value) && isRecord(doc.value['pruning']) ? doc.value['pruning']['schedule'] : undefined;
  if (schedule && isRecord(written)) {
    // With fractions that do not add up, the steps are the fractions as written (which is what
    // the hover and the diagnostic say too), and the schedule key says by how much they miss.
    const sumProblem = result.diagnostics.find((d) => d.code === 'schedule-sum');
    const pruning = analysis.config.pruning;
    const cycle = 'schedule' in pruning && 'cycle' in pruning.schedule ? pruning.schedule.cycle : undefined;
    for (const key of Object.keys(written)) {
      const value = written[key];
      if (typeof value !== 'number' || key === 'cycles') continue;
      // `sparse_share` is a share of each cycle, not of all steps.
      if (key === 'sparse_share') {
        if (cycle !== undefined)
          after(
            ['pruning', 'schedule', key],
            ` ${Math.round(value * cycle * schedule.totalSteps)} steps of each cycle`,
          );
        continue;
      }
      const steps = Math.round(value * schedule.totalSteps);
      const label = key === 'cycle' ? `${steps} steps each` : `${steps} steps`;
      after(['pruning', 'schedule', key], ` ${label}${sumProblem ? ' as written' : ''}`);
    }
    if (sumProblem) {
      const key = doc.locate(['pruning', 'schedule'])?.key;
      const position = key ? doc.lines.positionAt(key.end) : undefined;
      const total = Math.round(schedule.fractionSum * schedule.totalSteps);
      if (position && position.line >= fromLine && position.line <= toLine)
        hints.push({
          position,
          label: ` ⚠ ${total} of ${schedule.totalSteps} steps: the fractions add up to ${Math.round(schedule.fractionSum * 1e6) / 1e6}, not 1`,
          tooltip: sumProblem.message,
        });
    }
  }
  return hints;
}
