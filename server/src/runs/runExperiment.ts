/**
 * One pruning run from an experiment file to a finished run folder, the resumption of a run from
 * its last checkpoint, and the export of its model: the entries the CLI, the language server's
 * session worker (sessions/sessionWorker.ts) and its Export Run request call. The file is validated
 * first and refused with its located errors; every other failure ends with `run.json` marked
 * `failed` and the reason.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RunEvent, RunInfo } from '@protocol';
import { analyzeExperiment, type ExperimentAnalysis } from '../experiment/analysis';
import type { ExperimentDiagnostic } from '../experiment/diagnostics';
import { nodeHost } from '../data/nodeHost';
import { buildSchedule, type Schedule } from '../experiment/schedule';
import { ExperimentSchema, type ExperimentConfig } from '../experiment/schema';
import { validateExperiment } from '../experiment/validate';
import { SPARSITY_STUDIO_VERSION } from '../experiment/version';
import { RunStore } from './runStore';
import { selectBackend, type BackendRequest } from '../engine/backends';
import { modulePathsFromEnv, searchFolders, type SearchFolder } from '../engine/backendSearch';
import { DataError } from '../data/dataset';
import { openDataset } from '../data/openDataset';
import { megabytes, type DownloadOptions, type FashionMnistPlaces } from '../data/fashionMnistStore';
import { MaskedModel, type InitialWeights } from '../engine/maskedModel';
import { maskSparsity } from '../engine/metrics';
import { builtInNetworkSpec, type NetworkSpec } from '../engine/networkSpec';
import { methodEngine } from '../engine/methods';
import { loadTfjsModel } from '../engine/tfjsModel';
import { deriveSeed, Rng } from '../data/random';
import { exportModel } from '../engine/export';
import { restoreModel, train, TrainingError, type TrainState } from '../engine/trainer';

export class ExperimentFileError extends Error {
  constructor(
    readonly file: string,
    readonly diagnostics: ExperimentDiagnostic[],
  ) {
    super(`${file} has ${diagnostics.length} error(s); fix them first (sparsity-studio check ${file})`);
    this.name = 'ExperimentFileError';
  }
}

export interface RunOptions {
  /** Overrides `training.steps`. */
  steps?: number;
  backend?: BackendRequest;
  /** Overrides `output.dir` (absolute, or relative to the working directory). */
  outputDir?: string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent, info: RunInfo) => void;
  /** Called once the run folder exists. */
  onStart?: (info: RunInfo, dir: string) => void;
  /**
   * What the run is doing before its first step, when that takes a while (downloading its data):
   * a short line, at most twice a second. The first step ends it.
   */
  onActivity?: (message: string) => void;
  /** Where Fashion-MNIST without `data.path` is looked for and downloaded to (default: this user's). */
  fashionMnistPlaces?: FashionMnistPlaces;
  /** Where tfjs-node(-gpu) is looked for besides the experiment's folder, its parents and the global npm root. */
  backendSearch?: BackendSearchOptions;
}

export interface BackendSearchOptions {
  /** The editor's workspace folders; default: the working directory. */
  workspace?: string[];
  /** The `sparsityStudio.engine.modulePaths` setting; default: `SPARSITY_STUDIO_MODULE_PATHS`. */
  modulePaths?: string[];
}

/** The folders searched for backend packages for an experiment in `baseDir`. */
export function backendFolders(baseDir: string, options: BackendSearchOptions = {}): SearchFolder[] {
  return searchFolders({
    modulePaths: options.modulePaths ?? modulePathsFromEnv(),
    workspace: options.workspace ?? [process.cwd()],
    experimentDir: baseDir,
  });
}

/** At most this often, a download reports its progress to `onActivity`. */
const ACTIVITY_MS = 500;

export interface RunResult {
  info: RunInfo;
  dir: string;
}

const hashOf = (resolvedConfig: string) => createHash('sha256').update(resolvedConfig).digest('hex');

export async function runExperiment(file: string, options: RunOptions = {}): Promise<RunResult> {
  const path = resolve(file);
  const text = readFileSync(path, 'utf8');
  const baseDir = dirname(path);
  const validation = validateExperiment(text, nodeHost(baseDir));
  const errors = validation.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !validation.config || !validation.analysis) throw new ExperimentFileError(file, errors);
  const config = structuredClone(validation.config);
  if (options.steps !== undefined) {
    config.training.steps = options.steps;
    delete config.training.epochs;
  }
  const analysis = analyzeExperiment(config, nodeHost(baseDir));
  const steps = checkTrainable(config, analysis, file, validation.diagnostics);

  const store = RunStore.create(
    resolve(options.outputDir ?? resolve(baseDir, config.output.dir)),
    config.name,
    config.pruning.method,
    config.seed,
  );
  store.writeFile('config.yaml', text);
  const resolved = JSON.stringify(config, null, 2);
  store.writeFile('config.json', `${resolved}\n`);
  const backend = await selectBackend(options.backend ?? config.backend, backendFolders(baseDir, options.backendSearch));
  const now = new Date().toISOString();
  const info: RunInfo = {
    format: 1,
    id: store.id,
    name: config.name,
    method: config.pruning.method,
    status: 'running',
    seed: config.seed,
    configHash: hashOf(resolved),
    experimentFile: path,
    backend,
    versions: { sparsityStudio: SPARSITY_STUDIO_VERSION, tfjs: tf.version_core, node: process.version },
    task: analysis.input.task,
    totalSteps: steps,
    step: 0,
    targetSparsity: buildSchedule(config.pruning, steps).sparsity,
    startedAt: now,
    updatedAt: now,
    timing: { step_ms_median: null, total_s: 0 },
    resumes: 0,
  };
  store.writeInfo(info);
  options.onStart?.(info, store.dir);
  return execute(store, info, config, analysis, baseDir, options);
}

/** A run folder's store, info and resolved config, checked against its config hash. */
function openRunFolder(runDir: string) {
  if (!existsSync(join(runDir, 'run.json'))) throw new Error(`${runDir} is not a run folder (no run.json)`);
  const store = RunStore.open(runDir);
  const info = store.readInfo();
  const resolved = readFileSync(join(store.dir, 'config.json'), 'utf8').trimEnd();
  if (hashOf(resolved) !== info.configHash)
    throw new Error(
      `${runDir}/config.json does not match the run's config_hash: the folder was edited; start a new run instead`,
    );
  const config = ExperimentSchema.parse(JSON.parse(resolved));
  const baseDir = dirname(info.experimentFile);
  const analysis = analyzeExperiment(config, nodeHost(baseDir));
  checkTrainable(config, analysis, info.experimentFile, []);
  return { store, info, config, baseDir, analysis };
}

/** Continues a run folder from its last checkpoint, into the same folder. */
export async function resumeRun(
  runDir: string,
  options: Omit<RunOptions, 'steps' | 'outputDir'> = {},
): Promise<RunResult> {
  const { store, info, config, baseDir, analysis } = openRunFolder(runDir);
  if (info.status === 'completed') throw new Error(`${runDir} has already completed; nothing to resume`);
  const state = store.readCheckpoint();
  if (!state) throw new Error(`${runDir} has no checkpoint to resume from (output.checkpoint_every writes them)`);
  info.backend = await selectBackend(options.backend ?? config.backend, backendFolders(baseDir, options.backendSearch));
  info.status = 'running';
  info.resumes += 1;
  delete info.error;
  info.step = state.step;
  store.writeInfo(info);
  store.append({ type: 'status', step: state.step, status: 'resumed', message: `resumed from step ${state.step}` });
  options.onStart?.(info, store.dir);
  return execute(store, info, config, analysis, baseDir, options, state);
}

export interface ExportRunOptions {
  /** Where to write; default `<runDir>/export`. */
  outDir?: string;
  backend?: BackendRequest;
}

/**
 * Folds a run's last checkpoint (the final state of a completed run, or where a cancelled or
 * failed one stopped) into the export formats. Returns the files written and what could not be.
 */
export async function exportRun(
  runDir: string,
  options: ExportRunOptions = {},
): Promise<{ files: string[]; warnings: string[]; step: number }> {
  const { store, info, config, baseDir, analysis } = openRunFolder(runDir);
  const state = store.readCheckpoint();
  if (!state) throw new Error(`${runDir} has no checkpoint to export (the run stopped before its first one)`);
  await selectBackend(options.backend ?? config.backend, backendFolders(baseDir));
  const model = buildMaskedModel(config, analysis, baseDir, buildSchedule(config.pruning, info.totalSteps));
  try {
    restoreModel(model, state);
    const outDir = resolve(options.outDir ?? join(store.dir, 'export'));
    const warnings = await exportModel(model, outDir);
    const files = existsSync(outDir) ? listFiles(outDir) : [];
    return { files, warnings, step: state.step };
  } finally {
    model.dispose();
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function checkTrainable(
  config: ExperimentConfig,
  analysis: ExperimentAnalysis,
  file: string,
  diagnostics: ExperimentDiagnostic[],
): number {
  if (!analysis.model.ok || !analysis.plan) throw new ExperimentFileError(file, diagnostics);
  const steps = config.training.steps ?? analysis.steps;
  if (!steps) throw new Error('the number of training steps cannot be known: give training.steps');
  return steps;
}

async function execute(
  store: RunStore,
  info: RunInfo,
  config: ExperimentConfig,
  analysis: ExperimentAnalysis,
  baseDir: string,
  options: RunOptions,
  resume?: TrainState,
): Promise<RunResult> {
  const schedule = buildSchedule(config.pruning, info.totalSteps);
  const started = performance.now();
  const previousSeconds = info.timing.total_s;
  let model: MaskedModel | undefined;
  const finish = (status: RunInfo['status']) => {
    info.status = status;
    info.updatedAt = new Date().toISOString();
    if (status !== 'running') info.endedAt = info.updatedAt;
    info.timing.total_s = previousSeconds + (performance.now() - started) / 1000;
    store.writeInfo(info);
    store.append({ type: 'status', step: info.step, status, message: info.error?.message });
  };
  try {
    const dataset = await openDataset(config, baseDir, {
      download: downloadReporting(store, info, options),
      ...(options.fashionMnistPlaces && { places: options.fashionMnistPlaces }),
    });
    if (!analysis.model.ok || !analysis.plan) throw new Error('unreachable: checked before');
    model = buildMaskedModel(config, analysis, baseDir, schedule);
    const result = await train(config, dataset, model, schedule, {
      signal: options.signal,
      resume,
      onEvent: (event) => {
        store.append(event);
        if (event.type === 'step') {
          info.step = event.step + 1;
          info.updatedAt = new Date().toISOString();
        }
        options.onEvent?.(event, info);
      },
      checkpoint: {
        every: config.output.checkpoint_every,
        save: (state) => {
          store.writeCheckpoint(state);
          info.step = state.step;
          info.timing.total_s = previousSeconds + (performance.now() - started) / 1000;
          store.writeInfo(info);
          return Promise.resolve();
        },
      },
      snapshot: {
        count: config.output.snapshots,
        save: (step, phase, score, layers) => {
          const event = store.writeSnapshot(step, phase, score, layers);
          options.onEvent?.(event, info);
        },
      },
    });
    const sorted = [...result.stepMs].sort((a, b) => a - b);
    info.timing.step_ms_median = sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : null;
    info.step = result.steps;
    const sparsity = maskSparsity(model);
    info.final = {
      metrics: result.final,
      sparsity: {
        global: sparsity.global,
        layers: model.layers.map((l) => ({
          name: l.name,
          blockSparsity: sparsity.blockSparsity[l.name] ?? 0,
          entrySparsity: sparsity.entrySparsity[l.name] ?? 0,
          blocks: l.grid.blocks,
          keptBlocks: l.mask ? l.mask.reduce((a, b) => a + b, 0) : l.grid.blocks,
          pruned: l.pruned,
        })),
      },
    };
    await dataset.close();
    if (config.output.export && result.status === 'completed') {
      const warnings = await exportModel(model, join(store.dir, 'export'));
      for (const message of warnings) store.append({ type: 'status', step: info.step, status: 'running', message });
    }
    finish(result.status);
  } catch (error) {
    const located = error instanceof DataError ? { file: error.file, line: error.line, key: error.key } : {};
    info.error = { message: error instanceof Error ? error.message : String(error), ...located };
    if (error instanceof TrainingError) info.step = error.step;
    finish('failed');
  } finally {
    model?.dispose();
  }
  return { info, dir: store.dir };
}

/** Download progress as `onActivity` lines, and one status event in the run's log when a download starts. */
function downloadReporting(store: RunStore, info: RunInfo, options: RunOptions): DownloadOptions {
  let started = false;
  let last = -Infinity;
  return {
    ...(options.signal && { signal: options.signal }),
    onProgress: ({ received, total, url, folder }) => {
      if (!started) {
        started = true;
        const event = {
          type: 'status',
          step: info.step,
          status: 'running',
          message: `downloading Fashion-MNIST (${megabytes(total)}) from ${url} into ${folder}`,
        } as const;
        store.append(event);
        options.onEvent?.(event, info);
      }
      const now = performance.now();
      if (now - last < ACTIVITY_MS && received < total) return;
      last = now;
      options.onActivity?.(`downloading Fashion-MNIST: ${megabytes(received)} of ${megabytes(total)}`);
    },
  };
}

/** The model a config trains, freshly initialised (seeded); resume and export then load a checkpoint into it. */
export function buildMaskedModel(
  config: ExperimentConfig,
  analysis: ExperimentAnalysis,
  baseDir: string,
  schedule: Schedule,
): MaskedModel {
  if (!analysis.plan) throw new Error('unreachable: checked before');
  const network = networkOf(config, analysis, baseDir);
  return new MaskedModel(
    network.spec,
    analysis.plan.layers,
    methodEngine(config.pruning).layerOptions(config.pruning, schedule),
    Rng.from(config.seed, 'init'),
    deriveSeed(config.seed, 'dropout'),
    network.weights,
  );
}

/** The network to train: a built-in model from the shapes the editor shows, or the user's LayersModel. */
function networkOf(
  config: ExperimentConfig,
  analysis: ExperimentAnalysis,
  baseDir: string,
): { spec: NetworkSpec; weights: InitialWeights } {
  if (!analysis.model.ok) throw new Error('unreachable: checked before');
  const model = config.model;
  if (model.kind === 'tfjs') return loadTfjsModel(resolve(baseDir, model.path));
  return { spec: builtInNetworkSpec(model, analysis.model.shape, analysis.input), weights: new Map() };
}
