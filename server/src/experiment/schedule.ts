/**
 * The phase schedule of a pruning run: one pure function of the config that the trainer executes
 * and the editor previews (hover, inlay hints, the schedule chart). Never a second implementation.
 *
 * Phases are half-open step ranges `[startStep, endStep)` over `totalSteps`. Boundaries come from
 * the cumulative fractions of `pruning.schedule`, normalised by their sum so that a file whose
 * fractions do not add up still previews (the validator reports the sum).
 */
import { methodFormat, targetSparsity, type PruningConfig, type PruningMethod } from './methods';
import type { PhaseCurve, PhaseKind } from './methods/methodFormat';
import type { TrainingConfig } from './schema';

export interface Phase {
  index: number;
  kind: PhaseKind;
  /** First step of the phase (0-based). */
  startStep: number;
  /** One past the last step; `endStep === startStep` is an empty phase. */
  endStep: number;
  /** Start and end as fractions of all steps, after normalisation. */
  startFraction: number;
  endFraction: number;
  /** 1-based cycle number, or null for the warm-up and the final fine-tune. */
  cycle: number | null;
  curve: PhaseCurve;
  /** Human label: "dense warm-up", "cycle 2 · sparsify", "final sparse fine-tune". */
  label: string;
}

export interface Schedule {
  method: PruningMethod;
  totalSteps: number;
  /** Target sparsity `s` of every pruned layer at the end of training (0 for `none`). */
  sparsity: number;
  /** Exponent of the sparsify curve (`c` for SA++, the ramp power for magnitude). */
  exponent: number;
  phases: Phase[];
  /** Sum of the configured fractions; 1 when the file is consistent. */
  fractionSum: number;
}

export function buildSchedule(pruning: PruningConfig, totalSteps: number): Schedule {
  const method = methodFormat(pruning);
  const planned = method.plannedPhases(pruning);
  const sum = planned.reduce((acc, p) => acc + p.length, 0);
  const scale = sum > 0 ? 1 / sum : 0;
  const phases: Phase[] = [];
  let cumulative = 0;
  let startStep = 0;
  planned.forEach((p, index) => {
    const startFraction = cumulative * scale;
    cumulative += p.length;
    const isLast = index === planned.length - 1;
    const endFraction = isLast ? 1 : cumulative * scale;
    const endStep = isLast ? totalSteps : Math.min(totalSteps, Math.round(endFraction * totalSteps));
    phases.push({
      index,
      kind: p.kind,
      startStep,
      endStep: Math.max(startStep, endStep),
      startFraction,
      endFraction,
      cycle: p.cycle,
      curve: p.curve,
      label: p.label,
    });
    startStep = Math.max(startStep, endStep);
  });
  const parts = method.fractionParts(pruning);
  return {
    method: pruning.method,
    totalSteps,
    sparsity: targetSparsity(pruning),
    exponent: method.exponent(pruning),
    phases,
    // A method without configured lengths (`none`) is consistent by construction.
    fractionSum: parts.length === 0 ? 1 : parts.reduce((a, p) => a + p.value, 0),
  };
}

/** SA++ sparsification curve: `s·(1 − e^{−cτ}) / (1 − e^{−c})`, 0 at τ = 0 and `s` at τ = 1. */
export function exponentialSparsity(tau: number, sparsity: number, c: number): number {
  const t = Math.min(1, Math.max(0, tau));
  return (sparsity * (1 - Math.exp(-c * t))) / (1 - Math.exp(-c));
}

/** Gradual magnitude pruning (Zhu & Gupta): `s·(1 − (1 − τ)^e)`. */
export function polynomialSparsity(tau: number, sparsity: number, exponent: number): number {
  const t = Math.min(1, Math.max(0, tau));
  return sparsity * (1 - Math.pow(1 - t, exponent));
}

/** The phase that contains `step` (the last one for steps past the end). */
export function phaseAt(schedule: Schedule, step: number): Phase {
  const phases = schedule.phases;
  for (const p of phases) if (step >= p.startStep && step < p.endStep) return p;
  return phases[phases.length - 1]!;
}

/** Progress τ ∈ (0, 1] of `step` within a phase: the step's own update counts, so the last step is 1. */
export function phaseProgress(phase: Phase, step: number): number {
  const length = phase.endStep - phase.startStep;
  if (length <= 0) return 1;
  return Math.min(1, Math.max(0, (step - phase.startStep + 1) / length));
}

/** The schedule's target sparsity (fraction of blocks removed per pruned layer) at `step`. */
export function targetSparsityAt(schedule: Schedule, step: number): number {
  const phase = phaseAt(schedule, step);
  switch (phase.kind) {
    case 'dense':
      return 0;
    case 'sparse':
      return schedule.sparsity;
    case 'sparsify': {
      const tau = phaseProgress(phase, step);
      return phase.curve === 'polynomial'
        ? polynomialSparsity(tau, schedule.sparsity, schedule.exponent)
        : exponentialSparsity(tau, schedule.sparsity, schedule.exponent);
    }
  }
}

/** Blocks a layer of `blocks` blocks keeps at sparsity `sparsity`: `round((1 − s)·N)`, at least 1. */
export function keptBlocks(blocks: number, sparsity: number): number {
  return Math.max(1, Math.min(blocks, Math.round((1 - sparsity) * blocks)));
}

/** Blocks kept at `step` by a layer of `blocks` blocks; never below the final `k` inside a sparsify phase. */
export function keptBlocksAt(schedule: Schedule, step: number, blocks: number): number {
  const phase = phaseAt(schedule, step);
  if (phase.kind === 'dense') return blocks;
  const finalK = keptBlocks(blocks, schedule.sparsity);
  return Math.max(finalK, keptBlocks(blocks, targetSparsityAt(schedule, step)));
}

/** Global learning rate at `step` (never restarted per phase). */
export function learningRateAt(training: TrainingConfig, step: number, totalSteps: number): number {
  const peak = training.learning_rate;
  if (training.warmup_steps > 0 && step < training.warmup_steps) return (peak * (step + 1)) / training.warmup_steps;
  const final = training.final_learning_rate ?? peak / 100;
  const span = Math.max(1, totalSteps - 1 - training.warmup_steps);
  const t = Math.min(1, Math.max(0, (step - training.warmup_steps) / span));
  switch (training.lr_schedule) {
    case 'constant':
      return peak;
    case 'cosine':
      return final + 0.5 * (peak - final) * (1 + Math.cos(Math.PI * t));
    case 'exponential':
      return peak * Math.pow(final / peak, t);
  }
}
