/**
 * Level 3 of validation: what the config means for this model, from shapes only. Each check
 * returns the config path its diagnostic belongs to (so checks on values the schema rejected can
 * be suppressed) and, where one exists, the quick fix.
 */
import type { ExperimentAnalysis } from './analysis';
import { closestMatch } from './closestMatch';
import { isMissingFileProblem } from './experimentHost';
import { diagnostic, type ExperimentDiagnostic, type Fix, type TextEdit } from './diagnostics';
import { isRecord, valueAtPath } from './jsonSchema';
import { methodFormat } from './methods';
import type { LayerPlan } from './pruningPlan';
import { WASM_MAX_BYTES } from './memoryEstimate';
import { blockShape } from './schema';
import type { ConfigPath, ExperimentDocument } from './yamlDocument';

export interface LocatedDiagnostic {
  path: ConfigPath;
  diagnostic: ExperimentDiagnostic;
}

const pct = (x: number) => `${(100 * x).toFixed(1).replace(/\.0$/, '')}%`;
const FRACTION_TOLERANCE = 1e-6;

export function modelDiagnostics(analysis: ExperimentAnalysis, doc: ExperimentDocument): LocatedDiagnostic[] {
  const out: LocatedDiagnostic[] = [];
  const at = (
    path: ConfigPath,
    d: (range: ReturnType<ExperimentDocument['range']>) => ExperimentDiagnostic,
    prefer: 'key' | 'value' = 'key',
  ) => out.push({ path, diagnostic: d(doc.range(doc.spanOf(path, prefer))) });

  for (const problem of analysis.data.problems) {
    if (isMissingFileProblem(analysis.data, problem))
      at(problem.key, (r) => diagnostic('path-missing', r, `Data file missing: ${problem.message}`), 'value');
    else if (problem.unreadable)
      at(problem.key, (r) => diagnostic('path-unusable', r, `Data file unreadable: ${problem.message}`), 'value');
    else at(problem.key, (r) => diagnostic('model-invalid', r, `Data cannot be used: ${problem.message}`), 'value');
  }
  for (const note of analysis.data.notes ?? [])
    at(note.key, (r) => diagnostic('data-download', r, note.message), 'value');

  const model = analysis.model;
  if (!model.ok) {
    if ('unreadable' in model) {
      at(['model', 'path'], (r) => diagnostic(model.code, r, `Model file: ${model.unreadable}`), 'value');
    } else if (analysis.input.shape === null) {
      if (analysis.data.problems.length === 0)
        at(
          ['data', 'source'],
          (r) => diagnostic('model-unchecked', r, `Model-aware checks skipped: ${model.error.message}.`),
          'value',
        );
    } else {
      at(
        model.error.path,
        (r) => diagnostic('model-invalid', r, `The model cannot be built: ${model.error.message}.`),
        'value',
      );
    }
  }

  const plan = analysis.plan;
  const pruning = analysis.config.pruning;
  const prunes = methodFormat(pruning).prunes;
  if (plan) {
    for (const pattern of plan.patterns) {
      if (pattern.matches.length > 0) continue;
      const names = plan.layers.map((l) => l.name);
      const guess = closestMatch(pattern.pattern, names);
      const path: ConfigPath = ['pruning', pattern.list, pattern.index];
      const span = doc.locate(path)?.value;
      const fixes: Fix[] =
        guess && span
          ? [{ title: `Change to \`${guess}\``, edits: [{ range: doc.range(span), newText: guess }], preferred: true }]
          : [];
      at(
        path,
        (r) =>
          diagnostic(
            'pattern-no-match',
            r,
            `\`${pattern.pattern}\` matches no layer.${guess ? ` Did you mean \`${guess}\`?` : ''} Layers with kernels: ${names.join(', ')}.`,
            { fixes },
          ),
        'value',
      );
    }
    if (prunes) out.push(...planDiagnostics(analysis, doc, plan.layers));
  }

  if (prunes) out.push(...scheduleDiagnostics(analysis, doc));
  const output = analysis.outputProblem;
  if (output) at(['output', 'dir'], (r) => diagnostic('path-unusable', r, `Output folder: ${output}.`), 'value');
  const memory = memoryDiagnostic(analysis);
  if (memory) at(memory.path, (r) => diagnostic('memory-estimate', r, memory.message, { severity: memory.severity }));
  return out;
}

/**
 * The run's estimated memory against the machine's and, on wasm, against the 4 GiB its tensors
 * can address: an error when it cannot fit (so `run` refuses before allocating), a warning when it
 * would take more than half the machine or, with `backend: auto`, more than wasm can address.
 */
function memoryDiagnostic(
  analysis: ExperimentAnalysis,
): { path: ConfigPath; message: string; severity: 'error' | 'warning' } | null {
  const estimate = analysis.memory.estimate;
  const machine = analysis.memory.machineBytes;
  if (!estimate) return null;
  const backend = analysis.config.backend;
  const needs = `A run needs about ${gib(estimate.total)} of memory (parameters with gradients and optimizer state ${gib(estimate.parameters)}, activations ${gib(estimate.activations)}, data ${gib(estimate.dataset)})`;
  const path = estimate.largest.key;
  if (machine !== null && estimate.total > machine)
    return { path, severity: 'error', message: `${needs}: more than this machine's ${gib(machine)}.` };
  if (backend === 'wasm' && estimate.tensors > WASM_MAX_BYTES)
    return {
      path,
      severity: 'error',
      message: `${needs}: its tensors take more than the ${gib(WASM_MAX_BYTES)} the wasm backend can address.`,
    };
  if (machine !== null && estimate.total > machine / 2)
    return { path, severity: 'warning', message: `${needs}: more than half of this machine's ${gib(machine)}.` };
  if (backend === 'auto' && estimate.tensors > WASM_MAX_BYTES)
    return {
      path,
      severity: 'warning',
      message: `${needs}: its tensors take more than the ${gib(WASM_MAX_BYTES)} the wasm backend (auto's choice without tfjs-node) can address.`,
    };
  return null;
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.max(1, Math.round(bytes / 2 ** 20))} MiB`;
}

function planDiagnostics(
  analysis: ExperimentAnalysis,
  doc: ExperimentDocument,
  layers: LayerPlan[],
): LocatedDiagnostic[] {
  const out: LocatedDiagnostic[] = [];
  const { pruning } = analysis.config;
  const plan = analysis.plan!;
  const [br, bc] = blockShape(pruning);
  const pruned = layers.filter((l) => l.status === 'pruned');
  const blockPath: ConfigPath = ['pruning', 'block'];
  const blockRange = doc.range(doc.spanOf(blockPath, 'value'));

  if (pruned.length === 0) {
    const reasons = layers.map((l) => `${l.name}: ${statusText(l, pruning.min_blocks)}`).join('; ');
    out.push({
      path: ['pruning', 'method'],
      diagnostic: diagnostic('nothing-pruned', doc.range(doc.spanOf(['pruning'])), `No layer is pruned (${reasons}).`),
    });
    return out;
  }

  const tooLarge = layers.filter(
    (l) => l.status !== 'not-selected' && l.status !== 'excluded' && (br > l.rows || bc > l.cols),
  );
  if (tooLarge.length > 0) {
    out.push({
      path: blockPath,
      diagnostic: diagnostic(
        'block-too-large',
        blockRange,
        `${br}x${bc} blocks are larger than ${tooLarge.map((l) => `${l.name} (${l.rows}x${l.cols})`).join(', ')}.`,
      ),
    });
  }

  const edged = pruned.filter((l) => l.edgeRows > 0 || l.edgeCols > 0);
  if (edged.length > 0) {
    const detail = edged
      .map((l) => {
        const parts = [];
        if (l.edgeRows > 0) parts.push(`last block row ${l.edgeRows}x${bc}`);
        if (l.edgeCols > 0) parts.push(`last block column ${br}x${l.edgeCols}`);
        return `${l.name} (${l.rows}x${l.cols}): ${parts.join(', ')}`;
      })
      .join('; ');
    const fixes: Fix[] = [];
    const tiling = nearestTilingBlock(pruned, [br, bc]);
    const span = doc.locate(blockPath)?.value;
    if (tiling && span) {
      const text = tiling[0] === tiling[1] ? String(tiling[0]) : `[${tiling[0]}, ${tiling[1]}]`;
      fixes.push({
        title: `Use ${tiling[0]}x${tiling[1]} blocks, which tile every pruned layer`,
        edits: [{ range: doc.range(span), newText: text }],
      });
    }
    out.push({
      path: blockPath,
      diagnostic: diagnostic(
        'block-edge',
        blockRange,
        `${br}x${bc} blocks do not tile every pruned layer; edge blocks are smaller and count as blocks: ${detail}.`,
        { fixes },
      ),
    });
  }

  const skipped = layers.filter((l) => l.status === 'skipped-min-blocks');
  if (skipped.length > 0) {
    const explicit = pruning.layers !== 'all';
    const list = skipped.map((l) => `${l.name} (${l.blocks} block${l.blocks === 1 ? '' : 's'})`).join(', ');
    const path: ConfigPath = ['pruning', 'min_blocks'];
    const span = doc.locate(path)?.value;
    const fixes: Fix[] = span
      ? [
          {
            title: `Set \`min_blocks: ${Math.min(...skipped.map((l) => l.blocks))}\` to prune them too`,
            edits: [{ range: doc.range(span), newText: String(Math.min(...skipped.map((l) => l.blocks))) }],
          },
        ]
      : [];
    out.push({
      path,
      diagnostic: diagnostic(
        'min-blocks-skip',
        doc.range(doc.spanOf(path, 'value')),
        `Not pruned, fewer than min_blocks = ${pruning.min_blocks} blocks: ${list}.`,
        { severity: explicit ? 'warning' : 'information', fixes },
      ),
    });
  }

  // Compared over the layers the user selected: `exclude` and `layers` are deliberate, `min_blocks` is not.
  const target = plan.targetSparsity;
  const selected = layers.filter((l) => l.status === 'pruned' || l.status === 'skipped-min-blocks');
  const entries = selected.reduce((a, l) => a + l.rows * l.cols, 0);
  const achieved = entries > 0 ? selected.reduce((a, l) => a + l.sparsity * l.rows * l.cols, 0) / entries : 0;
  if (target > 0 && target - achieved > Math.max(0.05, 0.1 * target)) {
    const dense = skipped.map((l) => l.name);
    const path: ConfigPath = ['pruning', 'sparsity'];
    out.push({
      path,
      diagnostic: diagnostic(
        'sparsity-gap',
        doc.range(doc.spanOf(path, 'value')),
        `Removing ${pct(target)} of the blocks of each pruned layer makes only ${pct(achieved)} of the selected layers' weights zero, because ${dense.join(', ')} stay${dense.length === 1 ? 's' : ''} dense (min_blocks ${pruning.min_blocks}).`,
      ),
    });
  }
  return out;
}

function statusText(layer: LayerPlan, minBlocks: number): string {
  switch (layer.status) {
    case 'pruned':
      return 'pruned';
    case 'excluded':
      return 'excluded';
    case 'not-selected':
      return 'not in `layers`';
    case 'skipped-min-blocks':
      return `${layer.blocks} blocks < min_blocks ${minBlocks}`;
  }
}

/** The block shape nearest to `block` that divides every pruned layer, when it is not 1x1. */
export function nearestTilingBlock(layers: LayerPlan[], block: [number, number]): [number, number] | undefined {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const nearestDivisor = (n: number, want: number) => {
    let best = 1;
    for (let d = 1; d <= n; d++) if (n % d === 0 && Math.abs(d - want) < Math.abs(best - want)) best = d;
    return best;
  };
  const rows = nearestDivisor(layers.map((l) => l.rows).reduce(gcd), block[0]);
  const cols = nearestDivisor(layers.map((l) => l.cols).reduce(gcd), block[1]);
  if (rows * cols <= 1 || (rows === block[0] && cols === block[1])) return undefined;
  return [rows, cols];
}

function scheduleDiagnostics(analysis: ExperimentAnalysis, doc: ExperimentDocument): LocatedDiagnostic[] {
  const out: LocatedDiagnostic[] = [];
  const pruning = analysis.config.pruning;
  const schedulePath: ConfigPath = ['pruning', 'schedule'];
  const method = methodFormat(pruning);
  const parts = method.fractionParts(pruning);
  const sum = parts.reduce((a, p) => a + p.value, 0);
  if (parts.length > 0 && Math.abs(sum - 1) > FRACTION_TOLERANCE) {
    const terms = parts.map((p) =>
      p.key === 'cycle' ? `cycles x cycle ${round(p.value)}` : `${p.key} ${round(p.value)}`,
    );
    const fix = 'schedule' in pruning ? renormaliseFix(doc, schedulePath, pruning.schedule, parts, sum) : undefined;
    // The fix is offered from any line of the schedule: the lines people edit are its fractions.
    const whole = doc.locate(schedulePath);
    const fixRange =
      whole?.key && whole.value ? doc.range({ start: whole.key.start, end: whole.value.end }) : undefined;
    out.push({
      path: schedulePath,
      diagnostic: diagnostic(
        'schedule-sum',
        doc.range(doc.spanOf(schedulePath)),
        `Schedule fractions add up to ${round(sum)}, not 1: ${terms.join(' + ')}.`,
        { fixes: fix ? [fix] : [], ...(fixRange && { fixRange }) },
      ),
    });
  }
  for (const split of method.splits?.(pruning) ?? []) {
    const splitSum = split.parts.reduce((a, b) => a + b, 0);
    const path: ConfigPath = [...schedulePath, split.key];
    if (Math.abs(splitSum - 1) > FRACTION_TOLERANCE) {
      const span = doc.locate(path)?.value;
      const fixes: Fix[] =
        span && splitSum > 0
          ? [
              {
                title: `Renormalise the ${split.key} to add up to 1`,
                edits: [
                  {
                    range: doc.range(span),
                    newText: `[${roundedShares(
                      split.parts.map((x) => x / splitSum),
                      split.parts.map(() => 1),
                    ).join(', ')}]`,
                  },
                ],
                preferred: true,
              },
            ]
          : [];
      out.push({
        path,
        diagnostic: diagnostic(
          'schedule-sum',
          doc.range(doc.spanOf(path, 'value')),
          `The ${split.name} adds up to ${round(splitSum)}, not 1.`,
          { fixes },
        ),
      });
    }
  }

  const schedule = analysis.schedule;
  if (schedule) {
    const empty = schedule.phases.filter((p) => p.endFraction > p.startFraction && p.endStep - p.startStep < 1);
    if (empty.length > 0) {
      const shortest = Math.min(
        ...schedule.phases.filter((p) => p.endFraction > p.startFraction).map((p) => p.endFraction - p.startFraction),
      );
      const needed = Math.ceil(1 / shortest);
      const training = valueAtPath(doc.value, ['training']);
      const path: ConfigPath =
        isRecord(training) && training['epochs'] !== undefined ? ['training', 'epochs'] : ['training', 'steps'];
      out.push({
        path,
        diagnostic: diagnostic(
          'phase-too-short',
          doc.range(doc.spanOf(path, 'value')),
          `${schedule.totalSteps} steps are too few for this schedule: ${empty.length} phase${empty.length === 1 ? '' : 's'} get${empty.length === 1 ? 's' : ''} no step (${empty
            .slice(0, 4)
            .map((p) => p.label)
            .join(', ')}${empty.length > 4 ? ', ...' : ''}). Use at least ${needed} steps.`,
        ),
      });
    }
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Shares rounded to 6 decimals whose weighted sum is 1 within `FRACTION_TOLERANCE`: each rounds on
 * its own and the last one of weight 1 takes the remainder (three thirds become 0.333333,
 * 0.333333, 0.333334, not three 0.333333 that miss 1 by 1e-6 and keep the warning).
 */
function roundedShares(shares: number[], weights: number[]): number[] {
  const rounded = shares.map(round);
  const last = weights.lastIndexOf(1);
  if (last < 0) return rounded;
  const others = rounded.reduce((sum, v, i) => (i === last ? sum : sum + weights[i]! * v), 0);
  rounded[last] = round(1 - others);
  return rounded;
}

/** Scales every written fraction of the schedule so they add up to 1; adds the defaulted ones. */
function renormaliseFix(
  doc: ExperimentDocument,
  schedulePath: ConfigPath,
  schedule: Record<string, unknown>,
  parts: { key: string; value: number }[],
  sum: number,
): Fix | undefined {
  if (sum <= 0) return undefined;
  const edits: TextEdit[] = [];
  const missing: string[] = [];
  // A part's value may stand for several equal lengths (`cycle` counts `cycles` times).
  const configured = parts.map(({ key }) => schedule[key]);
  const weights = parts.map((p, i) => {
    const one = configured[i];
    return typeof one === 'number' && one > 0 ? p.value / one : 1;
  });
  const values = roundedShares(
    configured.map((v) => (typeof v === 'number' ? v / sum : 0)),
    weights.map((w) => Math.round(w * 1e9) / 1e9),
  );
  for (const [i, { key }] of parts.entries()) {
    if (typeof configured[i] !== 'number') continue;
    const newValue = values[i]!;
    const span = doc.locate([...schedulePath, key])?.value;
    if (span) edits.push({ range: doc.range(span), newText: String(newValue) });
    else missing.push(`${key}: ${newValue}`);
  }
  if (missing.length > 0) {
    const loc = doc.locate(schedulePath);
    const valueNode = loc?.value;
    // A flow mapping or no `schedule:` key at all: only the written keys can be edited in place.
    if (!loc?.key || !valueNode || doc.text[valueNode.start] === '{') return undefined;
    const indent = ' '.repeat(doc.lines.positionAt(valueNode.start).character);
    const end = doc.lines.positionAt(valueNode.end);
    const text = missing.map((m) => `${indent}${m}`).join('\n');
    edits.push({ range: { start: end, end }, newText: end.character === 0 ? `${text}\n` : `\n${text}` });
  }
  return { title: 'Renormalise the schedule fractions to add up to 1', edits, preferred: true };
}
