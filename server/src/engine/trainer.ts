/**
 * The training loop: it walks the one phase schedule step by step, re-creates the optimizer at
 * every phase boundary unless `pruning.reset_optimizer` is off (spec §1.4), lets the method's mask
 * policy move the masks, applies the global learning rate and the weight decay on the weights and
 * SA++ logits (coupled ℓ2 in the gradient, or decoupled after the step), and reports events. Only
 * the scalar loss (every `log_every` steps) and the masks (when a policy needs top-k) come back
 * from the backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FinalMetrics, RunEvent, SnapshotLayerOf, SnapshotScoreKind } from '@protocol';
import type { ExperimentConfig } from '../experiment/schema';
import { learningRateAt, phaseAt, targetSparsityAt, type Phase, type Schedule } from '../experiment/schedule';
import { blockNorms } from './blockMask';
import type { Dataset, ExampleBatch } from '../data/dataset';
import type { ModelInput, PrunableLayer, TrainableModel } from './trainableModel';
import { auc, clippedFraction, logLoss, maskSparsity, modelSupportRecovery } from './metrics';
import { MaskPolicy } from './maskPolicy';
import { methodEngine } from './methods';
import { deriveSeed } from '../data/random';
import { adam } from './wasmAdam';

export class TrainingError extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}

/** The dtypes a checkpoint holds: the step count of an optimizer is int32, everything else float32. */
export type SavedDtype = 'float32' | 'int32';

/** A tensor's values as a checkpoint keeps them: the dtype travels with the values. */
export interface SavedTensor {
  shape: number[];
  dtype: SavedDtype;
  data: Float32Array | Int32Array;
}

/** Everything a resumed run needs to continue exactly as the uninterrupted one would. */
export interface TrainState {
  /** The next step to run. */
  step: number;
  /** Index of the phase the last completed step belonged to (-1 before the first step). */
  phaseIndex: number;
  /** Model variables by name (kernels, biases, logits). */
  variables: Record<string, SavedTensor>;
  /** Masks of the pruned layers, by layer name. */
  masks: Record<string, Uint8Array>;
  /**
   * The optimizer's own state: its `getWeights()` (the int32 step count `iter`, then moments) in
   * order, then Adam's running bias-correction powers (`ADAM_POWERS`); empty before the first
   * step of a phase.
   */
  optimizer: (SavedTensor & { name: string })[];
  stepMs: number[];
}

/** One pruned layer's block scores and mask at one step, as the trainer holds them. */
export type SnapshotLayerArrays = SnapshotLayerOf<Float32Array, Uint8Array>;

/**
 * Adam's `beta^t` accumulators, which `getWeights()` leaves out: `setWeights()` recomputes them as
 * `pow(beta, iter + 1)`, which differs in the last float32 bits from the running product, so a
 * resumed run would drift from the uninterrupted one. They are saved and restored as they are.
 */
const ADAM_POWERS = ['accBeta1', 'accBeta2'] as const;
const ADAM_POWER_PREFIX = 'adam/';

/** By class name: tfjs's `Optimizer[Symbol.hasInstance]` makes every optimizer `instanceof AdamOptimizer`. */
const isAdam = (optimizer: tf.Optimizer) => optimizer.getClassName() === tf.AdamOptimizer.className;

function savedDtype(dtype: tf.DataType, name: string): SavedDtype {
  if (dtype === 'float32' || dtype === 'int32') return dtype;
  throw new Error(`cannot checkpoint ${name}: dtype ${dtype}`);
}

async function saveTensor(tensor: tf.Tensor, name: string): Promise<SavedTensor> {
  const dtype = savedDtype(tensor.dtype, name);
  const values = await tensor.data();
  return { shape: tensor.shape, dtype, data: dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values) };
}

/** The optimizer state a checkpoint keeps (see `TrainState.optimizer`). */
async function optimizerState(optimizer: tf.Optimizer): Promise<TrainState['optimizer']> {
  const state: TrainState['optimizer'] = [];
  for (const w of await optimizer.getWeights()) {
    state.push({ name: w.name, ...(await saveTensor(w.tensor, w.name)) });
    // The step count comes back as a fresh scalar; the moments are the optimizer's own variables.
    if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  }
  if (isAdam(optimizer)) {
    const fields = optimizer as unknown as Record<(typeof ADAM_POWERS)[number], tf.Variable>;
    for (const field of ADAM_POWERS)
      state.push({ name: `${ADAM_POWER_PREFIX}${field}`, ...(await saveTensor(fields[field], field)) });
  }
  return state;
}

/** Puts a checkpoint's optimizer state back into a fresh optimizer of the same kind. */
async function restoreOptimizer(optimizer: tf.Optimizer, saved: TrainState['optimizer']): Promise<void> {
  const powers = saved.filter((w) => w.name.startsWith(ADAM_POWER_PREFIX));
  const weights = saved
    .filter((w) => !w.name.startsWith(ADAM_POWER_PREFIX))
    .map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape, w.dtype) }));
  await optimizer.setWeights(weights);
  tf.dispose(weights.map((w) => w.tensor)); // the optimizer keeps variables of its own
  if (isAdam(optimizer)) {
    const fields = optimizer as unknown as Record<(typeof ADAM_POWERS)[number], tf.Variable>;
    for (const field of ADAM_POWERS) {
      const value = powers.find((w) => w.name === `${ADAM_POWER_PREFIX}${field}`);
      if (!value) throw new Error(`the checkpoint has no Adam ${field}: it was written by another optimizer`);
      tf.tidy(() => fields[field].assign(tf.tensor(value.data, value.shape, value.dtype)));
    }
  }
}

export interface TrainOptions {
  signal?: AbortSignal;
  onEvent: (event: RunEvent) => void;
  /** Continue from a checkpoint instead of step 0. */
  resume?: TrainState;
  /** Called every `every` steps, at phase boundaries and on cancel, with the state after the last completed step. */
  checkpoint?: { every: number; save: (state: TrainState) => Promise<void> };
  /** Called at every phase boundary and about `count` times evenly over the run. */
  snapshot?: {
    count: number;
    save: (step: number, phase: number, score: SnapshotScoreKind, layers: SnapshotLayerArrays[]) => void;
  };
}

export interface TrainResult {
  status: 'completed' | 'cancelled';
  steps: number;
  final: FinalMetrics;
  stepMs: number[];
}

function makeOptimizer(config: ExperimentConfig, lr: number): tf.Optimizer {
  switch (config.training.optimizer) {
    case 'adam':
      return adam(lr);
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, config.training.momentum);
  }
}

function setLearningRate(optimizer: tf.Optimizer, kind: ExperimentConfig['training']['optimizer'], lr: number): void {
  // SGD and momentum cache `-lr` as a tensor (setLearningRate); Adam reads its field at each step.
  if (kind === 'adam') (optimizer as unknown as { learningRate: number }).learningRate = lr;
  else (optimizer as tf.SGDOptimizer).setLearningRate(lr);
}

function disposeInput(input: ModelInput): void {
  if (input instanceof tf.Tensor) input.dispose();
  else tf.dispose([input.numeric, input.categorical]);
}

/** The training loss of a batch: softmax cross-entropy over classes, or sigmoid cross-entropy of the click logit. */
function batchLoss(dataset: Dataset, labels: tf.Tensor, logits: tf.Tensor2D): tf.Scalar {
  return dataset.task === 'ctr'
    ? tf.losses.sigmoidCrossEntropy(labels, logits)
    : tf.losses.softmaxCrossEntropy(labels, logits);
}

function labelTensor(dataset: Dataset, batch: ExampleBatch): tf.Tensor {
  return tf.tidy(() =>
    dataset.task === 'ctr'
      ? tf.tensor2d(Float32Array.from(batch.labels), [batch.size, 1])
      : tf.oneHot(tf.tensor1d(batch.labels, 'int32'), dataset.classes),
  );
}

/** Held-out metrics: loss and accuracy (classification) or log-loss and AUC (CTR); support recovery on teacher data. */
export async function evaluate(model: TrainableModel, dataset: Dataset): Promise<FinalMetrics> {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  const probabilities: number[] = [];
  const clicks: number[] = [];
  for await (const batch of dataset.test.batches({ batchSize: 1000, epoch: 0, shuffleSeed: null })) {
    const input = model.inputFromBatch(batch);
    if (dataset.task === 'ctr') {
      const p = tf.tidy(() => tf.sigmoid(model.forward(input)));
      const values = await p.data();
      p.dispose();
      for (let i = 0; i < batch.size; i++) {
        probabilities.push(values[i]!);
        clicks.push(batch.labels[i]!);
      }
    } else {
      const sums = tf.tidy(() => {
        const logits = model.forward(input);
        const labels = tf.tensor1d(batch.labels, 'int32');
        const l = tf.losses.softmaxCrossEntropy(
          tf.oneHot(labels, dataset.classes),
          logits,
          undefined,
          0,
          tf.Reduction.SUM,
        );
        return tf.stack([l, tf.equal(tf.argMax(logits, 1), labels).sum().toFloat()]);
      });
      const [loss, hits] = await sums.data();
      sums.dispose();
      lossSum += loss!;
      correct += hits!;
    }
    disposeInput(input);
    n += batch.size;
  }
  let metrics: FinalMetrics;
  if (dataset.task === 'ctr') {
    const ll = logLoss(probabilities, clicks);
    metrics = { loss: ll, log_loss: ll, auc: auc(probabilities, clicks) };
  } else metrics = { loss: lossSum / Math.max(1, n), accuracy: correct / Math.max(1, n) };
  if (dataset.groundTruth) {
    const recovery = modelSupportRecovery(model, dataset.groundTruth);
    if (recovery) {
      metrics.support_precision = recovery.precision;
      metrics.support_precision_chance = recovery.chance;
    }
  }
  return metrics;
}

/**
 * Endless training batches: epoch after epoch, each in its own seeded order. Starting at
 * `fromStep` yields exactly the batches an uninterrupted run would have seen from that step on.
 */
async function* trainingBatches(
  config: ExperimentConfig,
  dataset: Dataset,
  fromStep: number,
): AsyncGenerator<ExampleBatch> {
  const shuffleSeed = config.data.shuffle ? deriveSeed(config.seed, 'shuffle') : null;
  const size = dataset.train.size;
  const perEpoch = size === null ? null : Math.floor(size / config.data.batch_size);
  const firstEpoch = perEpoch ? Math.floor(fromStep / perEpoch) : 0;
  for (let epoch = firstEpoch; ; epoch++) {
    let any = false;
    for await (const batch of dataset.train.batches({
      batchSize: config.data.batch_size,
      epoch,
      shuffleSeed,
      dropRemainder: true,
      startBatch: perEpoch && epoch === firstEpoch ? fromStep % perEpoch : 0,
    })) {
      any = true;
      yield batch;
    }
    if (!any)
      throw new TrainingError(`the training set has fewer examples than one batch (${config.data.batch_size})`, 0);
  }
}

export async function train(
  config: ExperimentConfig,
  dataset: Dataset,
  model: TrainableModel,
  schedule: Schedule,
  options: TrainOptions,
): Promise<TrainResult> {
  const policy = new MaskPolicy(config.pruning, schedule, model, config.seed);
  const score = methodEngine(config.pruning).score;
  const decay = weightDecayTerms(config, model);
  const variables = [...model.weights(), ...model.logitVariables()];
  const clipped = model.layers.filter((l) => l.pruned && l.logits && model.options.clipDensity !== null);
  const resume = options.resume;
  const batches = trainingBatches(config, dataset, resume?.step ?? 0);
  const stepMs: number[] = resume ? [...resume.stepMs] : [];
  let optimizer: tf.Optimizer | null = null;
  let phase: Phase | null = null;
  let step = 0;
  if (resume) {
    restoreModel(model, resume);
    phase = resume.phaseIndex >= 0 ? (schedule.phases[resume.phaseIndex] ?? null) : null;
    step = resume.step;
    if (resume.optimizer.length > 0) {
      optimizer = makeOptimizer(config, learningRateAt(config.training, step, schedule.totalSteps));
      await restoreOptimizer(optimizer, resume.optimizer);
    }
  }
  const snapshotEvery = options.snapshot
    ? Math.max(1, Math.floor(schedule.totalSteps / Math.max(1, options.snapshot.count)))
    : 0;
  const takeSnapshot = (at: number, phaseIndex: number) => {
    if (!options.snapshot) return;
    const layers = model.layers
      .filter((l) => l.pruned)
      .map((l) => ({
        name: l.name,
        gridRows: l.grid.gridRows,
        gridCols: l.grid.gridCols,
        kernel: {
          kind: l.kernelKind,
          rows: l.grid.rows,
          cols: l.grid.cols,
          blockRows: l.grid.blockRows,
          blockCols: l.grid.blockCols,
        },
        scores: blockScores(model, l, score),
        mask: l.mask!.slice(),
      }));
    if (layers.length > 0) options.snapshot.save(at, phaseIndex, score, layers);
  };
  const saveCheckpoint = async (next: number) => {
    if (!options.checkpoint) return;
    await options.checkpoint.save(await captureState(model, optimizer, next, phase?.index ?? -1, stepMs));
  };
  // Tensor reads on wasm resolve as microtasks, so a busy loop would never let the event loop
  // deliver a stop (a worker message, a Ctrl-C): yield to it every few tens of milliseconds.
  let lastYield = performance.now();
  try {
    for (; step < schedule.totalSteps; step++) {
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (options.signal?.aborted) {
        await saveCheckpoint(step);
        return { status: 'cancelled', steps: step, final: await evaluate(model, dataset), stepMs };
      }
      const started = performance.now();
      const current = phaseAt(schedule, step);
      if (current !== phase) {
        if (phase) await saveCheckpoint(step);
        // A fresh optimizer (moments and step count) at every phase boundary, unless asked to keep it.
        if (config.pruning.reset_optimizer) {
          optimizer?.dispose();
          optimizer = null;
        }
        policy.enterPhase(current, phase);
        phase = current;
        options.onEvent({
          type: 'phase',
          step,
          index: current.index,
          kind: current.kind,
          label: current.label,
          startStep: current.startStep,
          endStep: current.endStep,
        });
        takeSnapshot(step, current.index);
      }
      const lr = learningRateAt(config.training, step, schedule.totalSteps);
      if (!optimizer) optimizer = makeOptimizer(config, lr);
      setLearningRate(optimizer, config.training.optimizer, lr);
      policy.beforeStep(step, current);
      const next = await batches.next();
      const batch = next.value as ExampleBatch;
      const log = step % config.training.log_every === 0 || step === schedule.totalSteps - 1;
      const input = model.inputFromBatch(batch);
      const labels = labelTensor(dataset, batch);
      const context = { training: true, step };
      const lossTensor = optimizationStep(
        optimizer,
        () => batchLoss(dataset, labels, model.forward(input, context)),
        variables,
        decay,
        lr,
        log,
      );
      disposeInput(input);
      labels.dispose();
      model.commitBatchStats();
      let loss = NaN;
      if (lossTensor) {
        loss = (await lossTensor.data())[0]!;
        lossTensor.dispose();
        if (!Number.isFinite(loss))
          throw new TrainingError(
            `the loss became ${loss} at step ${step} (phase "${current.label}"): lower training.learning_rate (now ${config.training.learning_rate})`,
            step,
          );
      }
      stepMs.push(performance.now() - started);
      if (log) {
        const sparsity = maskSparsity(model);
        options.onEvent({
          type: 'step',
          step,
          phase: current.index,
          loss,
          learningRate: lr,
          targetSparsity: targetSparsityAt(schedule, step),
          globalSparsity: sparsity.global,
          layerBlockSparsity: sparsity.blockSparsity,
          ...(clipped.length > 0 && {
            layerClippedFraction: Object.fromEntries(
              clipped.map((l) => [l.name, clippedFraction(model.attentionValues(l), model.options.clipDensity)]),
            ),
          }),
          stepMs: stepMs[stepMs.length - 1]!,
        });
      }
      const every = config.training.eval_every;
      if (every > 0 && step > 0 && step % every === 0)
        options.onEvent({ type: 'eval', step, metrics: await evaluate(model, dataset) });
      if (snapshotEvery > 0 && (step + 1) % snapshotEvery === 0) takeSnapshot(step + 1, current.index);
      if (options.checkpoint && options.checkpoint.every > 0 && (step + 1) % options.checkpoint.every === 0)
        await saveCheckpoint(step + 1);
    }
    // The final masks are always on disk, whatever the snapshot spacing, and so is the final
    // state: `sparsity-studio export` folds it later.
    if (snapshotEvery === 0 || step % snapshotEvery !== 0) takeSnapshot(step, phase?.index ?? 0);
    await saveCheckpoint(step);
    const final = await evaluate(model, dataset);
    options.onEvent({ type: 'eval', step, metrics: final });
    return { status: 'completed', steps: step, final, stepMs };
  } finally {
    optimizer?.dispose();
    await batches.return(undefined);
  }
}

const YIELD_EVERY_MS = 50;

/** Weight decay as the trainer applies it: the variables and coefficient of each term, and how. */
interface WeightDecayTerms {
  mode: ExperimentConfig['training']['weight_decay_mode'];
  terms: { variables: tf.Variable[]; coefficient: number }[];
}

function weightDecayTerms(config: ExperimentConfig, model: TrainableModel): WeightDecayTerms {
  const { weight_decay: weights, logit_weight_decay: logits, weight_decay_mode: mode } = config.training;
  return {
    mode,
    terms: [
      { variables: model.decayedWeights(), coefficient: weights },
      { variables: model.logitVariables(), coefficient: logits ?? weights },
    ].filter((t) => t.coefficient > 0 && t.variables.length > 0),
  };
}

/**
 * One optimizer update of `variables` on `loss`, with the weight decay: coupled, `λ·w` joins each
 * decayed variable's gradient before the optimizer sees it (the gradient of `(λ/2)·‖w‖²`);
 * decoupled, the variables shrink by `1 − lr·λ` after the update. Returns the loss when asked.
 */
function optimizationStep(
  optimizer: tf.Optimizer,
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  decay: WeightDecayTerms,
  lr: number,
  returnLoss: boolean,
): tf.Scalar | null {
  if (decay.mode === 'decoupled' || decay.terms.length === 0) {
    const value = optimizer.minimize(loss, returnLoss, variables);
    if (decay.mode === 'decoupled')
      tf.tidy(() => {
        for (const { variables: decayed, coefficient } of decay.terms)
          for (const v of decayed) v.assign(v.mul(1 - lr * coefficient));
      });
    return value;
  }
  const { value, grads } = optimizer.computeGradients(loss, variables);
  const regularised = tf.tidy(() => {
    const out: tf.NamedTensorMap = { ...grads };
    for (const { variables: decayed, coefficient } of decay.terms)
      for (const v of decayed) out[v.name] = tf.add(grads[v.name]!, tf.mul(v, coefficient));
    return out;
  });
  optimizer.applyGradients(regularised);
  tf.dispose([grads, regularised]);
  if (returnLoss) return value;
  value.dispose();
  return null;
}

/** Block scores for snapshots: the attention `A`, or block norms over their mean (the method's `score`). */
function blockScores(model: TrainableModel, layer: PrunableLayer, score: SnapshotScoreKind): Float32Array {
  if (score === 'attention') return model.attentionValues(layer)!;
  const norms = blockNorms(layer.kernel, layer.grid);
  const mean = norms.reduce((a, b) => a + b, 0) / Math.max(1, norms.length);
  return mean > 0 ? norms.map((v) => v / mean) : norms;
}

async function captureState(
  model: TrainableModel,
  optimizer: tf.Optimizer | null,
  step: number,
  phaseIndex: number,
  stepMs: number[],
): Promise<TrainState> {
  const variables: TrainState['variables'] = {};
  for (const [name, v] of model.namedVariables()) variables[name] = await saveTensor(v, name);
  const masks: TrainState['masks'] = {};
  for (const l of model.layers) if (l.mask) masks[l.name] = l.mask.slice();
  const saved = optimizer ? await optimizerState(optimizer) : [];
  return { step, phaseIndex, variables, masks, optimizer: saved, stepMs: [...stepMs] };
}

/** Loads a checkpoint's variables and masks into a model built from the same config. */
export function restoreModel(model: TrainableModel, state: TrainState): void {
  for (const [name, v] of model.namedVariables()) {
    const saved = state.variables[name];
    if (!saved) throw new Error(`the checkpoint has no value for ${name}: it belongs to another model`);
    if (saved.dtype !== v.dtype || saved.shape.join('x') !== v.shape.join('x'))
      throw new Error(
        `the checkpoint's ${name} is ${saved.dtype} [${saved.shape.join(', ')}], the model's ${v.dtype} [${v.shape.join(', ')}]: it belongs to another model`,
      );
    tf.tidy(() => v.assign(tf.tensor(saved.data, saved.shape, saved.dtype)));
  }
  for (const l of model.layers) {
    const mask = state.masks[l.name];
    if (l.pruned && mask) model.setMask(l, mask);
  }
}
