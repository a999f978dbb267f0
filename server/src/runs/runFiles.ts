/**
 * The readers' side of the run folder format (protocol/run.ts): `run.json` and the events of
 * `metrics.jsonl` are checked against these schemas before anything uses them, and paths read from
 * them stay inside their run folder. A file that does not hold what its format says is refused
 * with its name (and line) and the field that is wrong, never read as data.
 *
 * The schemas are typed against the protocol's declarations (`satisfies`), so the two cannot drift,
 * and keep fields they do not list (loose objects), so a field added to the format is not lost here.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { RunEvent, RunInfo } from '@protocol';
import { CorruptFileError } from '../data/regularFile';

const count = z.int().min(0);
const fraction = z.number().min(0).max(1);
const method = z.enum(['sapp', 'acdc', 'magnitude', 'none']);
const status = z.enum(['running', 'completed', 'failed', 'cancelled']);
const backendName = z.enum(['tensorflow', 'webgpu', 'wasm', 'cpu']);
const phaseKind = z.enum(['dense', 'sparsify', 'sparse']);

const finalMetrics = z.looseObject({
  loss: z.number(),
  accuracy: fraction.optional(),
  log_loss: z.number().optional(),
  auc: fraction.optional(),
  support_precision: fraction.optional(),
  support_precision_chance: fraction.optional(),
});

const RunInfoSchema = z.looseObject({
  format: z.literal(1),
  id: z.string().min(1),
  name: z.string(),
  method,
  status,
  error: z
    .object({
      message: z.string(),
      file: z.string().optional(),
      line: z.int().optional(),
      key: z.array(z.union([z.string(), z.int()])).optional(),
    })
    .optional(),
  seed: z.int(),
  configHash: z.string().regex(/^[0-9a-f]{64}$/),
  experimentFile: z.string(),
  backend: z.looseObject({
    name: backendName,
    requested: z.union([backendName, z.literal('auto')]),
    attempts: z.array(z.looseObject({ backend: backendName, used: z.boolean(), reason: z.string() })),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  }),
  versions: z.record(z.string(), z.string()),
  task: z.enum(['classification', 'ctr']),
  totalSteps: z.int().min(1),
  step: count,
  targetSparsity: fraction,
  startedAt: z.string(),
  updatedAt: z.string(),
  endedAt: z.string().optional(),
  final: z
    .object({
      metrics: finalMetrics,
      sparsity: z.looseObject({
        global: fraction,
        layers: z.array(
          z.looseObject({
            name: z.string(),
            blockSparsity: fraction,
            entrySparsity: fraction,
            blocks: count,
            keptBlocks: count,
            pruned: z.boolean(),
          }),
        ),
      }),
    })
    .optional(),
  timing: z.looseObject({ step_ms_median: z.number().min(0).nullable(), total_s: z.number().min(0) }),
  resumes: count,
}) satisfies z.ZodType<RunInfo>;

const RunEventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('phase'),
    step: count,
    index: count,
    kind: phaseKind,
    label: z.string(),
    startStep: count,
    endStep: count,
  }),
  z.looseObject({
    type: z.literal('step'),
    step: count,
    phase: count,
    // A NaN loss ends a run; JSON writes it as null, and the failure is the run's last event.
    loss: z
      .number()
      .nullable()
      .transform((v) => v ?? NaN),
    learningRate: z.number(),
    targetSparsity: fraction,
    globalSparsity: fraction,
    layerBlockSparsity: z.record(z.string(), fraction),
    layerClippedFraction: z.record(z.string(), fraction).optional(),
    stepMs: z.number().min(0),
  }),
  z.looseObject({ type: z.literal('eval'), step: count, metrics: finalMetrics }),
  z.looseObject({
    type: z.literal('snapshot'),
    step: count,
    phase: count,
    score: z.enum(['attention', 'magnitude']),
    file: z.string().regex(/^snapshots\/step-\d{8}\.bin$/, 'must be snapshots/step-<8 digits>.bin'),
    layers: z.array(
      z.looseObject({
        name: z.string(),
        gridRows: z.int().min(1),
        gridCols: z.int().min(1),
        kernel: z
          .looseObject({
            kind: z.enum(['dense', 'conv']),
            rows: z.int().min(1),
            cols: z.int().min(1),
            blockRows: z.int().min(1),
            blockCols: z.int().min(1),
          })
          .optional(),
        scoresOffset: count,
        maskOffset: count,
      }),
    ),
  }),
  z.looseObject({
    type: z.literal('status'),
    step: count,
    status: z.union([status, z.literal('resumed')]),
    message: z.string().optional(),
  }),
]) satisfies z.ZodType<RunEvent, unknown>;

/** `final.sparsity.layers[2].keptBlocks`: how a refusal names the field. */
function fieldOf(path: PropertyKey[]): string {
  return path.reduce<string>(
    (acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)),
    '',
  );
}

function refuse(file: string, error: z.ZodError): CorruptFileError {
  const issue = error.issues[0]!;
  return new CorruptFileError(file, fieldOf(issue.path), issue.message.replace(/^Invalid input: /, ''));
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CorruptFileError(file, '', `is not valid JSON: ${(error as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Run folders written before per-layer sparsity was named by what it counts: a layer's `sparsity`
 * was its entry fraction (the block fraction follows from its kept blocks), a step's
 * `layerSparsity` its block fractions. Read as today's fields, so old runs still open and compare.
 */
function upgradeRunInfo(json: unknown): unknown {
  const layers =
    isObject(json) && isObject(json['final']) && isObject(json['final']['sparsity'])
      ? json['final']['sparsity']['layers']
      : undefined;
  if (Array.isArray(layers))
    for (const l of layers)
      if (isObject(l) && 'sparsity' in l && !('entrySparsity' in l)) {
        l['entrySparsity'] = l['sparsity'];
        if (typeof l['blocks'] === 'number' && typeof l['keptBlocks'] === 'number' && l['blocks'] > 0)
          l['blockSparsity'] = 1 - l['keptBlocks'] / l['blocks'];
        delete l['sparsity'];
      }
  return json;
}

function upgradeRunEvent(json: unknown): unknown {
  if (isObject(json) && json['type'] === 'step' && 'layerSparsity' in json && !('layerBlockSparsity' in json)) {
    json['layerBlockSparsity'] = json['layerSparsity'];
    delete json['layerSparsity'];
  }
  return json;
}

/** `run.json`, checked: refused with the file and the field when it does not hold a run. */
export function parseRunInfo(text: string, file: string): RunInfo {
  const parsed = RunInfoSchema.safeParse(upgradeRunInfo(parseJson(text, file)));
  if (!parsed.success) throw refuse(file, parsed.error);
  const info = parsed.data as RunInfo;
  if (info.step > info.totalSteps)
    throw new CorruptFileError(file, 'step', `${info.step} is beyond totalSteps ${info.totalSteps}`);
  return info;
}

/** One line of `metrics.jsonl` (1-based `line`), checked. */
export function parseRunEvent(text: string, file: string, line: number): RunEvent {
  const where = `${file}:${line}`;
  const parsed = RunEventSchema.safeParse(upgradeRunEvent(parseJson(text, where)));
  if (!parsed.success) throw refuse(where, parsed.error);
  return parsed.data as RunEvent;
}

/**
 * The events of a `metrics.jsonl` text. A last line without its newline is what a kill during an
 * append leaves: it is left out (and repaired before the next append); any other bad line is refused.
 */
export function parseRunEvents(text: string, file: string): RunEvent[] {
  // After the last newline comes '' (a complete file) or the partial line: either way, not an event.
  const complete = text.split('\n').slice(0, -1);
  const events: RunEvent[] = [];
  complete.forEach((line, i) => {
    if (line.trim() !== '') events.push(parseRunEvent(line, file, i + 1));
  });
  return events;
}

/**
 * The absolute path of a file named inside a run folder, refused when it would lead outside it
 * (`..`, an absolute path, or a symbolic link that points elsewhere).
 */
export function insideRunFolder(runDir: string, name: string, namedBy: string): string {
  const path = resolve(runDir, name);
  const within = (root: string, p: string) => {
    const rel = relative(root, p);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  };
  if (isAbsolute(name) || !within(resolve(runDir), path))
    throw new CorruptFileError(namedBy, 'file', `names ${JSON.stringify(name)}, outside the run folder ${runDir}`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return path; // missing: the reader says so
  }
  if (!within(realpathSync(runDir), real))
    throw new CorruptFileError(
      namedBy,
      'file',
      `names ${JSON.stringify(name)}, a link out of the run folder (to ${real})`,
    );
  return real;
}
