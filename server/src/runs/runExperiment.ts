/**
 * One pruning run from an experiment file to a finished run folder, the resumption of a run from
 * its last checkpoint, and the export of its model: the entries the CLI, the language server's
 * session worker (sessions/sessionWorker.ts) and its Export Run request call. The file is validated
 * first and refused with its located errors; every other failure ends with `run.json` marked
 * `failed` and the reason.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { PhaseKindDto, RunEvent, RunInfo } from '@protocol';
import { betterEvaluation } from '@protocol/runHeadline';
import { analyzeExperiment, type ExperimentAnalysis } from '../experiment/analysis';
import { diagnostic, type ExperimentDiagnostic } from '../experiment/diagnostics';
import { MAX_EXPERIMENT_BYTES, nodeHost, readExperimentText } from '../data/nodeHost';
import { CorruptFileError, readRegularFile } from '../data/regularFile';
import { buildSchedule, phaseAt, type Schedule } from '../experiment/schedule';
import { ExperimentSchema, type ExperimentConfig } from '../experiment/schema';
import { dotted, validateExperiment } from '../experiment/validate';
import { SPARSITY_STUDIO_VERSION } from '../experiment/version';
import type { ConfigPath } from '../experiment/yamlDocument';
import type { CheckpointOwner } from './checkpointFile';
import { LOCK_FILE, lockRunFolder, lockText, releaseRunFolder } from './runLock';
import { readRunInfo } from './runReader';
import { RunStore, runJson } from './runStore';
import { slurmJobFromEnv } from './slurmJob';
import { sweepCombinationConfig, type SweepParams } from '../experiment/sweep';
import { selectBackend, type BackendRequest } from '../engine/backends';
import { modulePathsFromEnv, searchFolders, type SearchFolder } from '../engine/backendSearch';
import type { ThreadsRequest } from '../engine/wasmThreads';
import { DataError } from '../data/dataset';
import { openDataset } from '../data/openDataset';
import { megabytes, type DownloadOptions, type FashionMnistPlaces } from '../data/fashionMnistStore';
import { MaskedModel } from '../engine/maskedModel';
import { GraphModel } from '../engine/graphModel';
import type { TrainableModel } from '../engine/trainableModel';
import { maskSparsity } from '../engine/metrics';
import { builtInNetworkSpec } from '../engine/networkSpec';
import { describeResnet, describeTfjsModel } from '../experiment/modelShape';
import type { GraphShape } from '../experiment/graphShape';
import { resnetTopology } from '../experiment/resnet';
import { methodEngine } from '../engine/methods';
import { loadTfjsModel, TfjsModelError, type StoredWeight } from '../engine/tfjsModel';
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
  /** Overrides `threads`. */
  threads?: ThreadsRequest;
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
  /** Run one combination of the file's `sweep:` into exactly this folder (which must not hold a run yet). */
  sweepRun?: { index: number; params: SweepParams; runDir: string };
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
  const read = readExperimentText(path);
  if ('problem' in read) {
    const start = { line: 0, character: 0 };
    throw new ExperimentFileError(file, [diagnostic(read.problem.code, { start, end: start }, read.problem.message)]);
  }
  const text = read.text;
  const baseDir = dirname(path);
  const validation = validateExperiment(text, nodeHost(baseDir));
  const errors = validation.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !validation.config || !validation.analysis) throw new ExperimentFileError(file, errors);
  const config = options.sweepRun
    ? sweepCombinationConfig(validation.document.value, options.sweepRun.params)
    : structuredClone(validation.config);
  if (options.steps !== undefined) {
    config.training.steps = options.steps;
    delete config.training.epochs;
  }
  const analysis = analyzeExperiment(config, nodeHost(baseDir));
  const steps = checkTrainable(config, analysis, file, validation.diagnostics);

  const backend = await selectBackend(
    options.backend ?? config.backend,
    backendFolders(baseDir, options.backendSearch),
    [],
    {
      threads: options.threads ?? config.threads,
    },
  );
  const resolved = JSON.stringify(config, null, 2);
  const now = new Date().toISOString();
  const info: RunInfo = {
    format: 1,
    id: '',
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
  const slurm = slurmJobFromEnv();
  if (slurm) info.slurm = slurm;
  if (options.sweepRun) info.sweep = { index: options.sweepRun.index, params: options.sweepRun.params };
  // Born locked: the folder appears with its first files and its owner's lock, so no resume can take it meanwhile.
  const contents = (id: string) => {
    info.id = id;
    return {
      'config.yaml': text,
      'config.json': `${resolved}\n`,
      'run.json': runJson(info),
      [LOCK_FILE]: lockText(),
    };
  };
  const store = options.sweepRun
    ? RunStore.createAt(resolve(options.sweepRun.runDir), contents)
    : RunStore.create(
        resolve(options.outputDir ?? resolve(baseDir, config.output.dir)),
        config.name,
        config.pruning.method,
        config.seed,
        contents,
      );
  try {
    options.onStart?.(info, store.dir);
    return await execute(store, info, config, analysis, baseDir, options);
  } finally {
    releaseRunFolder(store.dir);
  }
}

const checkpointOwner = (info: RunInfo): CheckpointOwner => ({
  runId: info.id,
  configHash: info.configHash,
  totalSteps: info.totalSteps,
});

/** A run folder's store, info and resolved config, checked against its config hash. */
function openRunFolder(runDir: string) {
  const store = RunStore.open(runDir);
  const info = store.readInfo();
  const configFile = join(store.dir, 'config.json');
  const resolved = readRegularFile(configFile, MAX_EXPERIMENT_BYTES).toString('utf8').trimEnd();
  if (hashOf(resolved) !== info.configHash)
    throw new Error(
      `${configFile} does not match the run's config_hash: the folder was edited; start a new run instead`,
    );
  let json: unknown;
  try {
    json = JSON.parse(resolved);
  } catch (error) {
    throw new CorruptFileError(configFile, '', `is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ExperimentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CorruptFileError(configFile, dotted(issue.path as ConfigPath), issue.message);
  }
  const config = parsed.data;
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
  readRunInfo(runDir); // a run folder, before anything is written into it
  lockRunFolder(runDir);
  try {
    const { store, info, config, baseDir, analysis } = openRunFolder(runDir);
    if (info.status === 'completed') throw new Error(`${runDir} has already completed; nothing to resume`);
    store.prepareToContinue();
    store.reserveSpace();
    // Without a checkpoint (killed before its first), the run starts over: the seed gives the same start.
    const state = store.readCheckpoint(checkpointOwner(info)) ?? undefined;
    info.backend = await selectBackend(
      options.backend ?? config.backend,
      backendFolders(baseDir, options.backendSearch),
      [],
      { threads: options.threads ?? config.threads },
    );
    info.status = 'running';
    info.resumes += 1;
    delete info.error;
    const slurm = slurmJobFromEnv();
    if (slurm) info.slurm = slurm;
    info.step = state?.step ?? 0;
    store.writeInfo(info);
    store.append({ type: 'status', step: info.step, status: 'resumed', message: `resumed from step ${info.step}` });
    options.onStart?.(info, store.dir);
    return await execute(store, info, config, analysis, baseDir, options, state);
  } finally {
    releaseRunFolder(runDir);
  }
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
  readRunInfo(runDir);
  lockRunFolder(runDir);
  let model: TrainableModel | undefined;
  try {
    const { store, info, config, baseDir, analysis } = openRunFolder(runDir);
    const state = store.readCheckpoint(checkpointOwner(info));
    if (!state) throw new Error(`${runDir} has no checkpoint to export (the run stopped before its first one)`);
    await selectBackend(options.backend ?? config.backend, backendFolders(baseDir));
    model = await buildModel(config, analysis, baseDir, buildSchedule(config.pruning, info.totalSteps));
    restoreModel(model, state);
    const outDir = resolve(options.outDir ?? join(store.dir, 'export'));
    const warnings = exportModel(model, outDir);
    const files = existsSync(outDir) ? listFiles(outDir) : [];
    return { files, warnings, step: state.step };
  } finally {
    model?.dispose();
    releaseRunFolder(runDir);
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
  let model: TrainableModel | undefined;
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
    model = await buildModel(config, analysis, baseDir, schedule);
    const result = await train(config, dataset, model, schedule, {
      signal: options.signal,
      resume,
      onEvent: (event) => {
        store.append(event);
        if (event.type === 'step') {
          info.step = event.step + 1;
          info.updatedAt = new Date().toISOString();
        }
        if (event.type === 'eval')
          info.bestEvaluation = betterEvaluation(info.bestEvaluation, { step: event.step, metrics: event.metrics });
        options.onEvent?.(event, info);
      },
      checkpoint: {
        every: config.output.checkpoint_every,
        save: (state) => {
          store.writeCheckpoint(state, checkpointOwner(info));
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
    info.timing.step_ms_median = median(result.stepMs);
    info.timing.step_ms_by_phase_kind = stepMsByPhaseKind(schedule, result.stepMs);
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
      const warnings = exportModel(model, join(store.dir, 'export'));
      for (const message of warnings) store.append({ type: 'status', step: info.step, status: 'running', message });
    }
    store.releaseReserve();
    finish(result.status);
  } catch (error) {
    store.releaseReserve(); // a full disk: room for the failure to be written
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

function median(values: number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : null;
}

/** Median step time per phase kind; `stepMs[i]` is step `i`'s (resumed runs carry the earlier ones). */
export function stepMsByPhaseKind(
  schedule: Schedule,
  stepMs: number[],
): NonNullable<RunInfo['timing']['step_ms_by_phase_kind']> {
  const byKind = new Map<PhaseKindDto, number[]>();
  stepMs.forEach((ms, step) => {
    if (step >= schedule.totalSteps) return;
    const kind = phaseAt(schedule, step).kind;
    const values = byKind.get(kind);
    if (values) values.push(ms);
    else byKind.set(kind, [ms]);
  });
  const result: NonNullable<RunInfo['timing']['step_ms_by_phase_kind']> = {};
  for (const [kind, values] of byKind) result[kind] = median(values)!;
  return result;
}

/** The model a config trains, freshly initialised (seeded); resume and export then load a checkpoint into it. */
export async function buildModel(
  config: ExperimentConfig,
  analysis: ExperimentAnalysis,
  baseDir: string,
  schedule: Schedule,
): Promise<TrainableModel> {
  if (!analysis.plan || !analysis.model.ok) throw new Error('unreachable: checked before');
  const options = methodEngine(config.pruning).layerOptions(config.pruning, schedule);
  const rng = Rng.from(config.seed, 'init');
  const dropoutSeed = deriveSeed(config.seed, 'dropout');
  const model = config.model;
  if (model.kind === 'tfjs' || model.kind === 'resnet') {
    const graph = graphOf(config, analysis, baseDir);
    return GraphModel.build({ ...graph, plan: analysis.plan.layers, options, rng, dropoutSeed });
  }
  return new MaskedModel(
    builtInNetworkSpec(model, analysis.model.shape, analysis.input),
    analysis.plan.layers,
    options,
    rng,
    dropoutSeed,
  );
}

/** The LayersModel of a `tfjs` or `resnet` config: its topology, its description and the user's weights. */
function graphOf(
  config: ExperimentConfig,
  analysis: ExperimentAnalysis,
  baseDir: string,
): { topology: Record<string, unknown>; shape: GraphShape; stored?: Map<string, StoredWeight> } {
  const model = config.model;
  if (model.kind === 'resnet') {
    const { shape, classes } = analysis.input;
    if (!shape || classes === null) throw new Error('unreachable: checked before');
    const described = describeResnet(model, shape, classes);
    if (!described.ok) throw new Error(described.error.message);
    return { topology: resnetTopology(model, shape, classes), shape: described.shape };
  }
  if (model.kind !== 'tfjs') throw new Error('unreachable: a built-in chain');
  const file = resolve(baseDir, model.path);
  const loaded = loadTfjsModel(file);
  // Described again from the file that trains (the editor's analysis may be older than it).
  const described = describeTfjsModel(loaded.json, analysis.input);
  if (!described.ok) throw new TfjsModelError(`${file}: ${described.error.message}`, file);
  const topology = loaded.json['modelTopology'] as Record<string, unknown>;
  return { topology, shape: described.shape, stored: loaded.weights };
}
