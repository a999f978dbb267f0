/**
 * Hover in experiment files: the key's docs from the schema, the chosen value's own docs, and
 * what the config computes to there (the block grid on `block` and `sparsity`; the phase table on
 * `schedule`, a one-line summary with a link to the preview on the keys that shape it), from the
 * same analysis the validator uses. A schedule whose fractions do not add up shows what is wrong
 * instead of phases: the trainer would never run the renormalised schedule, since the file does not run.
 */
import type { ExperimentAnalysis } from './analysis';
import { choicesOf, describeConstraints, discriminatorOf, schemaAtPath, valueAtPath } from './jsonSchema';
import { expandGrid, SWEEP_KEY, SWEEP_SLURM_KEY } from './sweep';
import { sweepKeyPaths } from './sweepValidation';
import { targetSparsityAt } from './schedule';
import { dotted, type ValidationResult } from './validate';
import type { Position, Range } from './yamlDocument';

export interface HoverResult {
  markdown: string;
  range: Range;
}

const pct = (x: number) => `${(100 * x).toFixed(1).replace(/\.0$/, '')}%`;

/**
 * `previewLink`: a Markdown link that opens the schedule preview of this document (the LSP adapter
 * knows the document's URI and the command); without it the summary goes without a link.
 */
export function hover(result: ValidationResult, position: Position, previewLink?: string): HoverResult | undefined {
  const doc = result.document;
  const offset = doc.lines.offsetAt(position);
  const at = doc.pathAt(offset);
  if (!at) return undefined;
  const { path, onKey } = at;
  const root = doc.value;
  const key = path[path.length - 1];
  if (typeof key === 'number') return undefined;
  const loc = doc.locate(path);
  const span = onKey ? loc?.key : loc?.value;
  if (!span) return undefined;

  if (path[0] === SWEEP_KEY && (path.length === 1 || (path.length === 2 && path[1] !== SWEEP_SLURM_KEY))) {
    const markdown = sweepHover(result, path.length === 2 ? String(path[1]) : undefined);
    if (markdown) return { markdown, range: doc.range(span) };
  }

  const parts: string[] = [`**${dotted(path)}**`];
  const parent = schemaAtPath(path.slice(0, -1), root);
  const branches = parent?.oneOf ?? parent?.anyOf;
  const schema = schemaAtPath(path, root);
  if (schema?.markdownDescription ?? schema?.description) parts.push(schema.markdownDescription ?? schema.description!);
  const constraints = schema ? describeConstraints(schema) : '';
  if (constraints && !(branches && discriminatorOf(branches) === key)) parts.push(`_${constraints}_`);
  if (branches && discriminatorOf(branches) === key) {
    const options = branches.map((b) => `\`${String(b.properties?.[String(key)]?.const)}\``).join(', ');
    parts.push(`_one of ${options}_`);
  }
  const value = valueAtPath(root, path);
  if (!onKey && schema && (typeof value === 'string' || typeof value === 'boolean')) {
    const choice = choicesOf(schema).find((c) => c.value === value);
    if (choice?.markdown && choice.markdown !== schema.markdownDescription)
      parts.push(`\`${String(value)}\`: ${choice.markdown}`);
  }
  const facts = result.analysis ? computedFacts(result, result.analysis, path.map(String), previewLink) : undefined;
  if (facts) parts.push(facts);
  if (!schema && !facts) return undefined;
  return { markdown: parts.join('\n\n'), range: doc.range(span) };
}

function computedFacts(
  result: ValidationResult,
  analysis: ExperimentAnalysis,
  path: string[],
  previewLink: string | undefined,
): string | undefined {
  const joined = path.join('.');
  if (['pruning.block', 'pruning.sparsity', 'pruning.min_blocks', 'pruning.layers', 'pruning.exclude'].includes(joined))
    return layerTable(analysis);
  const onSchedule = joined === 'pruning.schedule';
  if (
    onSchedule ||
    joined === 'pruning.method' ||
    joined === 'training.steps' ||
    joined === 'training.epochs' ||
    (path[0] === 'pruning' && path[1] === 'schedule')
  ) {
    const invalid = scheduleProblem(result);
    if (invalid) return invalid;
    return onSchedule ? phaseTable(analysis) : phaseSummary(analysis, previewLink);
  }
  if (joined === 'model' || joined === 'model.kind') return layerTable(analysis);
  return undefined;
}

/**
 * What is wrong with a schedule whose fractions do not add up (its `schedule-sum` diagnostics),
 * in place of phases the file would never run.
 */
export function scheduleProblem(result: ValidationResult): string | undefined {
  const problems = result.diagnostics.filter((d) => d.code === 'schedule-sum');
  if (problems.length === 0) return undefined;
  return [
    ...problems.map((d) => `**Invalid schedule:** ${d.message}`),
    'No phases until they add up to 1: the run is refused as it is. The quick fix (Ctrl+.) scales the written fractions to add up to 1.',
  ].join('\n\n');
}

/** The phases in one line: how many, over how many steps, the first and the last, and the link to the preview. */
export function phaseSummary(analysis: ExperimentAnalysis, previewLink?: string): string | undefined {
  const schedule = analysis.schedule;
  if (!schedule || schedule.phases.length === 0) return undefined;
  const first = schedule.phases[0]!;
  const last = schedule.phases.at(-1)!;
  const ends =
    schedule.phases.length > 1
      ? ` from ${first.label} (steps ${first.startStep}–${first.endStep}) to ${last.label} (${last.startStep}–${last.endStep})`
      : '';
  return `${schedule.phases.length} phase${schedule.phases.length === 1 ? '' : 's'} over ${schedule.totalSteps} steps${ends}. ${
    previewLink ?? 'The phase table is on `schedule`.'
  }`;
}

/** The block grid of every layer with a kernel and what the target keeps of it. */
export function layerTable(analysis: ExperimentAnalysis): string | undefined {
  const plan = analysis.plan;
  if (!plan) return undefined;
  const rows = plan.layers.map(
    (l) =>
      `| ${l.name} | ${l.rows}x${l.cols} | ${l.gridRows}x${l.gridCols}${l.edgeRows || l.edgeCols ? ' (edge)' : ''} | ${l.blocks} | ${l.keptBlocks} | ${l.status} |`,
  );
  return [
    '| layer | kernel | grid | blocks | kept | status |',
    '| --- | --- | --- | ---: | ---: | --- |',
    ...rows,
    '',
    `Global sparsity of all kernels at the end: **${pct(plan.globalSparsity)}** (target ${pct(plan.targetSparsity)} of the blocks of each pruned layer).`,
  ].join('\n');
}

/** The phases with their step ranges and the target sparsity where each ends. */
export function phaseTable(analysis: ExperimentAnalysis): string | undefined {
  const schedule = analysis.schedule;
  if (!schedule) return undefined;
  const rows = schedule.phases.map((p) => {
    const end =
      p.endStep > p.startStep ? targetSparsityAt(schedule, p.endStep - 1) : targetSparsityAt(schedule, p.startStep);
    return `| ${p.label} | ${p.kind} | ${p.startStep}–${p.endStep} | ${p.endStep - p.startStep} | ${pct(end)} |`;
  });
  return [
    `${schedule.phases.length} phases over ${schedule.totalSteps} steps:`,
    '',
    '| phase | kind | steps | length | target at end |',
    '| --- | --- | --- | ---: | ---: |',
    ...rows,
  ].join('\n');
}

/** Rows of the runs table in the hover on `sweep`; the rest are counted. */
const SWEEP_HOVER_ROWS = 24;

/** On `sweep`: its docs and the runs it makes; on one of its paths: the docs of the key it sets. */
function sweepHover(result: ValidationResult, path: string | undefined): string | undefined {
  const check = result.sweep;
  const root = result.document.value;
  if (path !== undefined) {
    const schema = sweepKeyPaths().get(path);
    if (!schema) return undefined;
    const axis = check?.axes.find((a) => a.path === path);
    return [
      `**sweep: ${path}**`,
      schema.markdownDescription ?? schema.description ?? '',
      describeConstraints(schema) ? `_${describeConstraints(schema)}_` : '',
      axis && check
        ? `${axis.values.length} values; each runs in ${check.runs / axis.values.length} of the ${check.runs} runs.`
        : '',
    ]
      .filter(Boolean)
      .join('\n\n');
  }
  const schema = schemaAtPath([SWEEP_KEY], root);
  const parts = ['**sweep**', schema?.markdownDescription ?? ''];
  if (check && check.axes.length > 0) {
    const grid = expandGrid(check.axes);
    parts.push(
      `**${check.runs} runs** (${check.axes.map((a) => `\`${a.path}\` × ${a.values.length}`).join(', ')}):`,
      [
        `| # | ${check.axes.map((a) => a.path).join(' | ')} |`,
        `| ---: |${check.axes.map(() => ' --- |').join('')}`,
        ...grid
          .slice(0, SWEEP_HOVER_ROWS)
          .map(
            (params, i) => `| ${i} | ${check.axes.map((a) => `\`${JSON.stringify(params[a.path])}\``).join(' | ')} |`,
          ),
      ].join('\n'),
    );
    if (grid.length > SWEEP_HOVER_ROWS) parts.push(`… and ${grid.length - SWEEP_HOVER_ROWS} more.`);
  }
  return parts.filter(Boolean).join('\n\n');
}
