/**
 * The training loop: it walks the one phase schedule step by step, re-creates the optimizer at
 * every phase boundary (spec §1.4), lets the method's mask policy move the masks, applies the
 * global learning rate and decoupled weight decay (weights and SA++ logits), and reports events.
 * Only the scalar loss (every `log_every` steps) and the masks (when a policy needs top-k) come
 * back from the backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FinalMetrics, RunEvent } from '@protocol';
import type { ExperimentConfig } from '../experiment/schema';
import { learningRateAt, phaseAt, targetSparsityAt, type Phase, type Schedule } from '../experiment/schedule';
import { countKept } from './blockMask';
import type { Dataset, ExampleBatch, GroundTruthSupport } from './data/dataset';
import type { MaskedMlp } from './maskedMlp';
import { MaskPolicy } from './maskPolicy';
import { deriveSeed } from './random';

export class TrainingError extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}

export interface TrainOptions {
  signal?: AbortSignal;
  onEvent: (event: RunEvent) => void;
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
      return tf.train.adam(lr);
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

/** Fraction of zero kernel entries over all layers, and masked-block fraction per pruned layer. */
export function maskSparsity(model: MaskedMlp): { global: number; layers: Record<string, number> } {
  let zeros = 0;
  let total = 0;
  const layers: Record<string, number> = {};
  for (const l of model.layers) {
    const g = l.grid;
    total += g.rows * g.cols;
    if (!l.mask) continue;
    layers[l.name] = 1 - countKept(l.mask) / g.blocks;
    for (let r = 0; r < g.gridRows; r++)
      for (let c = 0; c < g.gridCols; c++) {
        if (l.mask[r * g.gridCols + c]) continue;
        const h = Math.min(g.blockRows, g.rows - r * g.blockRows);
        const w = Math.min(g.blockCols, g.cols - c * g.blockCols);
        zeros += h * w;
      }
  }
  return { global: total > 0 ? zeros / total : 0, layers };
}

/** F1 of the kept blocks of the teacher's layer against the planted support. */
export function supportF1(model: MaskedMlp, truth: GroundTruthSupport): number | undefined {
  const layer = model.layers.find((l) => l.name === truth.layer);
  if (!layer?.mask || layer.grid.gridRows !== truth.gridRows || layer.grid.gridCols !== truth.gridCols)
    return undefined;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  truth.support.forEach((t, i) => {
    const kept = layer.mask![i] === 1;
    if (kept && t) tp++;
    else if (kept) fp++;
    else if (t) fn++;
  });
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

export async function evaluate(model: MaskedMlp, dataset: Dataset): Promise<FinalMetrics> {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  for await (const batch of dataset.test.batches({ batchSize: 1000, epoch: 0, shuffleSeed: null })) {
    const [loss, hits] = tf.tidy(() => {
      const logits = model.forward(tf.tensor2d(batch.features, [batch.size, batch.features.length / batch.size]));
      const labels = tf.tensor1d(batch.labels, 'int32');
      const l = tf.losses.softmaxCrossEntropy(
        tf.oneHot(labels, dataset.classes),
        logits,
        undefined,
        0,
        tf.Reduction.SUM,
      );
      const h = tf.equal(tf.argMax(logits, 1), labels).sum();
      return [l.dataSync()[0]!, h.dataSync()[0]!];
    });
    lossSum += loss;
    correct += hits;
    n += batch.size;
  }
  const metrics: FinalMetrics = { loss: lossSum / Math.max(1, n), accuracy: correct / Math.max(1, n) };
  if (dataset.groundTruth) {
    const f1 = supportF1(model, dataset.groundTruth);
    if (f1 !== undefined) metrics.support_f1 = f1;
  }
  return metrics;
}

/** Endless training batches: epoch after epoch, each in its own seeded order. */
async function* trainingBatches(config: ExperimentConfig, dataset: Dataset): AsyncGenerator<ExampleBatch> {
  const shuffleSeed = config.data.shuffle ? deriveSeed(config.seed, 'shuffle') : null;
  for (let epoch = 0; ; epoch++) {
    let any = false;
    for await (const batch of dataset.train.batches({
      batchSize: config.data.batch_size,
      epoch,
      shuffleSeed,
      dropRemainder: true,
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
  model: MaskedMlp,
  schedule: Schedule,
  options: TrainOptions,
): Promise<TrainResult> {
  const policy = new MaskPolicy(config.pruning, schedule, model);
  const width = dataset.inputShape.reduce((a, b) => a * b, 1);
  const weightDecay = config.training.weight_decay;
  const logitDecay = config.training.logit_weight_decay ?? weightDecay;
  const kernels = model.layers.map((l) => l.kernel);
  const logits = model.logitVariables();
  const variables = [...model.weights(), ...logits];
  const batches = trainingBatches(config, dataset);
  const stepMs: number[] = [];
  let optimizer: tf.Optimizer | null = null;
  let phase: Phase | null = null;
  let step = 0;
  try {
    for (; step < schedule.totalSteps; step++) {
      if (options.signal?.aborted)
        return { status: 'cancelled', steps: step, final: await evaluate(model, dataset), stepMs };
      const started = performance.now();
      const current = phaseAt(schedule, step);
      if (current !== phase) {
        // A fresh optimizer (moments and step count) at every phase boundary.
        optimizer?.dispose();
        optimizer = null;
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
      }
      const lr = learningRateAt(config.training, step, schedule.totalSteps);
      if (!optimizer) optimizer = makeOptimizer(config, lr);
      setLearningRate(optimizer, config.training.optimizer, lr);
      policy.beforeStep(step, current);
      const next = await batches.next();
      const batch = next.value as ExampleBatch;
      const log = step % config.training.log_every === 0 || step === schedule.totalSteps - 1;
      const x = tf.tensor2d(batch.features, [batch.size, width]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(batch.labels, 'int32'), dataset.classes));
      const lossTensor = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)), log, variables);
      tf.dispose([x, y]);
      tf.tidy(() => {
        if (weightDecay > 0) for (const k of kernels) k.assign(k.mul(1 - lr * weightDecay));
        if (logitDecay > 0) for (const l of logits) l.assign(l.mul(1 - lr * logitDecay));
      });
      let loss = NaN;
      if (lossTensor) {
        loss = lossTensor.dataSync()[0]!;
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
          layerSparsity: sparsity.layers,
          stepMs: stepMs[stepMs.length - 1]!,
        });
      }
      const every = config.training.eval_every;
      if (every > 0 && step > 0 && step % every === 0)
        options.onEvent({ type: 'eval', step, metrics: await evaluate(model, dataset) });
    }
    const final = await evaluate(model, dataset);
    options.onEvent({ type: 'eval', step, metrics: final });
    return { status: 'completed', steps: step, final, stepMs };
  } finally {
    optimizer?.dispose();
    await batches.return(undefined);
  }
}
