/**
 * What a valid config means before anything trains: the input, the layer shapes, the pruning plan
 * and the phase schedule. The validator's model-aware checks, hover, inlay hints and the schedule
 * preview all read this one analysis.
 */
import { resolvePath, type DataProbeResult, type ExperimentHost } from './experimentHost';
import {
  describeInput,
  describeModel,
  describeTfjsModel,
  type InputDescription,
  type ModelShapeResult,
} from './modelShape';
import { planPruning, type PruningPlan } from './pruningPlan';
import { buildSchedule, type Schedule } from './schedule';
import { totalSteps, type ExperimentConfig } from './schema';

export interface ExperimentAnalysis {
  config: ExperimentConfig;
  data: DataProbeResult;
  input: InputDescription;
  model: ModelShapeResult | { ok: false; unreadable: string };
  plan: PruningPlan | null;
  /** Null when the number of steps cannot be known (epochs over data of unknown size). */
  schedule: Schedule | null;
  steps: number | null;
}

export function analyzeExperiment(config: ExperimentConfig, host: ExperimentHost): ExperimentAnalysis {
  const data = host.probeData(config.data);
  const input = describeInput(config.data, data.probe);
  const model = describeConfiguredModel(config, input, host);
  const plan = model.ok ? planPruning(model.shape, config.pruning) : null;
  const steps = totalSteps(config, input.trainExamples ?? undefined) ?? null;
  const schedule = steps === null ? null : buildSchedule(config.pruning, steps);
  return { config, data, input, model, plan, schedule, steps };
}

function describeConfiguredModel(
  config: ExperimentConfig,
  input: InputDescription,
  host: ExperimentHost,
): ExperimentAnalysis['model'] {
  const model = config.model;
  if (model.kind !== 'tfjs') return describeModel(model, input);
  const abs = resolvePath(host, model.path);
  if (abs === null)
    return { ok: false, unreadable: 'the experiment file is not saved, so `model.path` cannot be resolved' };
  if (!host.exists(abs)) return { ok: false, unreadable: `\`${model.path}\` does not exist (resolved to ${abs})` };
  const bytes = host.readHead(abs, 64 * 1024 * 1024);
  if (!bytes) return { ok: false, unreadable: `${abs} cannot be read` };
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
