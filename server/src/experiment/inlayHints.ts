/**
 * Inlay hints: after `block`, the blocks and kept blocks of each pruned layer; after `sparsity`,
 * the resulting global sparsity; after each schedule fraction, the steps it becomes (for
 * `sparse_share`, the sparse steps of each cycle).
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
  if (!analysis) return [];
  const hints: InlayHintEntry[] = [];
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
      after(['pruning', 'schedule', key], ` ${key === 'cycle' ? `${steps} steps each` : `${steps} steps`}`);
    }
  }
  return hints;
}
