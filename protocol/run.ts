/**
 * The shape of a run on disk, shared by the engine that writes it, the sessions that stream it,
 * and the dashboards and reports that replay it. Plain JSON-safe DTOs.
 *
 * A run folder holds:
 * - `config.yaml`: the experiment text as it was when the run started; `config.json`: the
 *   resolved config (defaults filled in); its SHA-256 is `RunInfo.configHash`.
 * - `run.json`: `RunInfo`, rewritten atomically (temp file + rename) as the run progresses.
 * - `metrics.jsonl`: one `RunEvent` per line, appended.
 * - `snapshots/step-<8 digits>.bin`: block scores and masks at one step, laid out as the
 *   `snapshot` event that announces the file says.
 * - `checkpoints/`: what `sparsity-studio run --resume DIR` needs.
 * - `export/`: the folded TF.js model and the block-sparse model.
 */

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export type PhaseKindDto = 'dense' | 'sparsify' | 'sparse';

export type BackendNameDto = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** One backend that `auto` (or a forced choice) tried, and why it was or was not used. */
export interface BackendAttempt {
  backend: BackendNameDto;
  used: boolean;
  reason: string;
}

/** Why a folder was searched for the native TensorFlow binding (server/src/engine/backendSearch.ts). */
export type SearchOriginDto = 'setting' | 'workspace' | 'experiment' | 'global';

/** One installed copy of `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` that the search found. */
export interface BackendPackageDto {
  package: string;
  /** From its package.json; null when it has none or it cannot be read. */
  version: string | null;
  /** Its folder. */
  path: string;
  origin: SearchOriginDto;
  used: boolean;
  /** Why it was used, or why not (another one first, a version that does not match tfjs-core). */
  reason: string;
}

/** Where the native TensorFlow binding was looked for, in order, and every copy found. */
export interface BackendSearchDto {
  folders: { dir: string; origin: SearchOriginDto }[];
  candidates: BackendPackageDto[];
}

export interface BackendInfo {
  /** The backend that really ran the run. */
  name: BackendNameDto;
  /** What the file asked for (`auto` or a name). */
  requested: BackendNameDto | 'auto';
  /** Every backend considered, in order, with the reason it was skipped or chosen. */
  attempts: BackendAttempt[];
  /**
   * Extra facts: `threads` (the compute threads the backend really uses: wasm's XNNPACK pool with
   * the calling thread, 1 for cpu; absent where the backend manages its own), `threadsRequested`
   * and, when fewer run, `threadsNote`; the transposed-matmul patch; the GPU adapter name.
   */
  details: Record<string, string | number | boolean>;
  /** The search for tfjs-node(-gpu), when `tensorflow` was tried. */
  search?: BackendSearchDto;
}

/**
 * Final metrics: `accuracy` for classification, `log_loss` and `auc` for CTR; on teacher data the
 * support recovery of the layer the teacher mirrors, beside its chance level.
 */
export interface FinalMetrics {
  loss: number;
  accuracy?: number;
  log_loss?: number;
  auc?: number;
  /** Precision@k: the share of the kept blocks that are planted, after matching hidden units to the teacher's. */
  support_precision?: number;
  /** The same precision for random masks with as many kept blocks (matching lifts it well above the planted share). */
  support_precision_chance?: number;
}

/** One layer's sparsity at the end of a run: its block fraction and its entry fraction, named apart. */
export interface LayerSparsity {
  name: string;
  /** Fraction of the layer's blocks that are masked (what `pruning.sparsity` asks for). */
  blockSparsity: number;
  /** Fraction of the layer's kernel entries that are zero in the folded model (edge blocks at their size). */
  entrySparsity: number;
  blocks: number;
  keptBlocks: number;
  /** Whether the plan prunes the layer at all. */
  pruned: boolean;
}

export interface RunInfo {
  /** Format version of this file. */
  format: 1;
  /** Folder name, unique under `output.dir`. */
  id: string;
  name: string;
  method: 'sapp' | 'acdc' | 'magnitude' | 'none';
  status: RunStatus;
  /** Why the run failed or was cancelled, when it did. */
  error?: { message: string; file?: string; line?: number; key?: (string | number)[] };
  seed: number;
  configHash: string;
  /** Absolute path of the experiment file the run came from. */
  experimentFile: string;
  backend: BackendInfo;
  versions: Record<string, string>;
  task: 'classification' | 'ctr';
  totalSteps: number;
  /** Steps completed so far. */
  step: number;
  /** Target block sparsity of every pruned layer (fraction of its blocks). */
  targetSparsity: number;
  startedAt: string;
  updatedAt: string;
  endedAt?: string;
  /** Set after the run ends. */
  final?: {
    metrics: FinalMetrics;
    sparsity: { global: number; layers: LayerSparsity[] };
  };
  timing: {
    /** Median wall time of one training step, in milliseconds. */
    step_ms_median: number | null;
    /**
     * The same median per kind of phase, for the kinds the schedule has (a sparse phase runs its
     * pruned layers block-sparse when they keep few enough blocks). Absent in runs from before it.
     */
    step_ms_by_phase_kind?: Partial<Record<PhaseKindDto, number>>;
    /** Wall time of the whole run so far, in seconds (resumed segments added up). */
    total_s: number;
  };
  /** How many times the run was resumed from a checkpoint. */
  resumes: number;
  /**
   * The best evaluation so far by the run's primary metric (accuracy, else log-loss), kept up to
   * date at every checkpoint and at the end (absent in runs written before it was recorded).
   */
  bestEvaluation?: { step: number; metrics: FinalMetrics };
  /** The SLURM job the run (or its last resume) ran in, from `SLURM_*` environment variables. */
  slurm?: SlurmJobInfo;
  /** The combination of a sweep this run is; its folder sits in the sweep folder. */
  sweep?: { index: number; params: Record<string, SweepValue> };
}

type SweepScalar = string | number | boolean | null;
/**
 * A value of one sweep axis (protocol/sweep.ts): anything the swept key accepts (a number, a string, a list, a small
 * mapping). Not a recursive type: page.evaluate's typings in the webview tests recurse forever on one.
 */
export type SweepValue =
  | SweepScalar
  | (SweepScalar | SweepScalar[])[]
  | { [key: string]: SweepScalar | (SweepScalar | SweepScalar[])[] };

/** Ids of a SLURM job as its environment names them (`SLURM_JOB_ID`, `SLURM_ARRAY_*`). */
export interface SlurmJobInfo {
  job_id: string;
  /** Set for a task of a job array. */
  array_job_id?: string;
  array_task_id?: string;
}

/** A phase boundary of the schedule, as the trainer enters it. */
export interface PhaseEvent {
  type: 'phase';
  step: number;
  index: number;
  kind: PhaseKindDto;
  label: string;
  startStep: number;
  endStep: number;
}

/** One training step (every `training.log_every` steps). */
export interface StepEvent {
  type: 'step';
  step: number;
  /** Phase index in the schedule. */
  phase: number;
  loss: number;
  learningRate: number;
  /** The schedule's target sparsity (fraction of blocks per pruned layer) at this step. */
  targetSparsity: number;
  /** Fraction of zero kernel entries over all layers with a kernel. */
  globalSparsity: number;
  /** Fraction of masked blocks per pruned layer, by layer name (the entry fraction is in `run.json` at the end). */
  layerBlockSparsity: Record<string, number>;
  /**
   * Fraction of the blocks whose attention `A` lies outside the clip range `[1 − s, 1/(1 − s)]`,
   * per pruned layer with a clip (SA++ with `clip_attention`), by layer name; absent otherwise.
   */
  layerClippedFraction?: Record<string, number>;
  /** Wall time of this step, in milliseconds. */
  stepMs: number;
}

/** An evaluation on the held-out set. */
export interface EvalEvent {
  type: 'eval';
  step: number;
  metrics: FinalMetrics;
}

/** Which block score a snapshot holds (see `SnapshotEvent`). */
export type SnapshotScoreKind = 'attention' | 'magnitude';

/**
 * What a pruned layer's kernel matrix is, for the heatmap's axes: a dense kernel has one row per
 * input and one column per output unit; a conv kernel is `(kh·kw·cin) x cout`.
 */
export interface KernelGeometry {
  kind: 'dense' | 'conv';
  /** Kernel matrix rows and columns. */
  rows: number;
  cols: number;
  /** Block shape; the last block row (column) is smaller when it does not divide `rows` (`cols`). */
  blockRows: number;
  blockCols: number;
}

/** A pruned layer in a snapshot: its name and its grid of blocks. */
export interface SnapshotLayerGrid {
  name: string;
  gridRows: number;
  gridCols: number;
  /** The kernel the grid tiles (absent in runs written before it was recorded). */
  kernel?: KernelGeometry;
}

/**
 * One pruned layer's block scores (`gridRows*gridCols` float32, row-major) and mask (one byte per
 * block, 1 = kept, 0 = pruned) at one step, generic in how the two arrays are held: typed arrays in
 * the server's memory (engine, run reader), base64 on the wire (`SnapshotLayerBase64`).
 */
export interface SnapshotLayerOf<Scores, Mask> extends SnapshotLayerGrid {
  scores: Scores;
  mask: Mask;
}

/** A snapshot layer in a JSON message: the little-endian float32 scores and the mask bytes, each as base64. */
export type SnapshotLayerBase64 = SnapshotLayerOf<string, string>;

/** Where one layer's scores and mask sit inside a snapshot file. */
export interface SnapshotLayerInFile extends SnapshotLayerGrid {
  /** Byte offset of `gridRows*gridCols` little-endian float32 scores (row-major). */
  scoresOffset: number;
  /** Byte offset of `gridRows*gridCols` bytes, 1 = kept. */
  maskOffset: number;
}

/**
 * Block scores and masks of every pruned layer at one step. Scores are what top-k ranks: the
 * attention `A = N·softmax(L)` before the clip for `sapp`, block Frobenius norms divided by their
 * mean otherwise.
 */
export interface SnapshotEvent {
  type: 'snapshot';
  step: number;
  phase: number;
  score: SnapshotScoreKind;
  /** File name relative to the run folder (`snapshots/step-00000200.bin`). */
  file: string;
  layers: SnapshotLayerInFile[];
}

export interface StatusEvent {
  type: 'status';
  step: number;
  status: RunStatus | 'resumed';
  message?: string;
}

export type RunEvent = PhaseEvent | StepEvent | EvalEvent | SnapshotEvent | StatusEvent;
