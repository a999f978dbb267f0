/**
 * What a valid config means before anything trains: the input, the layer shapes, the pruning plan
 * and the phase schedule. The validator's model-aware checks, hover, inlay hints and the schedule
 * preview all read this one analysis.
 */
import { describeKind, folderProblem, resolvePath, type DataProbeResult, type ExperimentHost } from './experimentHost';
import {
  describeInput,
  describeModel,
  describeTfjsModel,
  type InputDescription,
  type ModelShapeResult,
} from './modelShape';
import { estimateMemory, type MemoryEstimate } from './memoryEstimate';
import { planPruning, type PruningPlan } from './pruningPlan';
import { buildSchedule, type Schedule } from './schedule';
import { totalSteps, type ExperimentConfig } from './schema';

/** A `model.path` that cannot be read, with the diagnostic code it gets. */
export interface UnreadableModel {
  ok: false;
  unreadable: string;
  code: 'path-missing' | 'path-unusable' | 'model-unchecked';
}

export interface ExperimentAnalysis {
  config: ExperimentConfig;
  data: DataProbeResult;
  input: InputDescription;
  model: ModelShapeResult | UnreadableModel;
  plan: PruningPlan | null;
  /** Null when the number of steps cannot be known (epochs over data of unknown size). */
  schedule: Schedule | null;
  steps: number | null;
  /** Why `output.dir` cannot hold run folders (a file, a device), or null. */
  outputProblem: string | null;
  /** What a run would hold in memory, and the machine's memory to check it against. */
  memory: { estimate: MemoryEstimate | null; machineBytes: number | null };
}

export function analyzeExperiment(config: ExperimentConfig, host: ExperimentHost): ExperimentAnalysis {
  const data = host.probeData(config.data);
  const input = describeInput(config.data, data.probe);
  const model = describeConfiguredModel(config, input, host);
  const plan = model.ok ? planPruning(model.shape, config.pruning) : null;
  const steps = totalSteps(config, input.trainExamples ?? undefined) ?? null;
  const schedule = steps === null ? null : buildSchedule(config.pruning, steps);
  const output = resolvePath(host, config.output.dir);
  const outputProblem = output === null ? null : folderProblem(output, (p) => host.pathKind(p));
  const analysis = { config, data, input, model, plan, schedule, steps, outputProblem };
  return { ...analysis, memory: { estimate: estimateMemory(analysis), machineBytes: host.memoryBytes } };
}

/** The most of a `model.json` read: the topology and weight manifest, not the weights. */
export const MODEL_JSON_MAX_BYTES = 64 * 1024 * 1024;

function describeConfiguredModel(
  config: ExperimentConfig,
  input: InputDescription,
  host: ExperimentHost,
): ExperimentAnalysis['model'] {
  const model = config.model;
  if (model.kind !== 'tfjs') return describeModel(model, input);
  const abs = resolvePath(host, model.path);
  if (abs === null)
    return {
      ok: false,
      code: 'model-unchecked',
      unreadable: 'the experiment file is not saved, so `model.path` cannot be resolved',
    };
  const kind = host.pathKind(abs);
  if (kind === 'missing')
    return { ok: false, code: 'path-missing', unreadable: `\`${model.path}\` does not exist (resolved to ${abs})` };
  if (kind !== 'file')
    return {
      ok: false,
      code: 'path-unusable',
      unreadable: `\`${model.path}\` ${describeKind(kind)}, not a model.json file (resolved to ${abs})`,
    };
  const bytes = host.readHead(abs, MODEL_JSON_MAX_BYTES + 1);
  if ('error' in bytes) return { ok: false, code: 'path-unusable', unreadable: bytes.error };
  if (bytes.length > MODEL_JSON_MAX_BYTES)
    return {
      ok: false,
      code: 'path-unusable',
      unreadable: `${abs} is larger than ${MODEL_JSON_MAX_BYTES / 2 ** 20} MiB: a model.json holds the topology and the weight manifest, not the weights`,
    };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    return {
      ok: false,
      error: { message: `${abs} is not valid JSON: ${(error as Error).message}`, path: ['model', 'path'] },
    };
  }
  return describeTfjsModel(json, input);
}
