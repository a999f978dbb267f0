/**
 * The phase schedule of a pruning run: one pure function of the config that the trainer executes
 * and the editor previews (hover, inlay hints, the schedule chart). Never a second implementation.
 *
 * Phases are half-open step ranges `[startStep, endStep)` over `totalSteps`. Boundaries come from
 * the cumulative fractions of `pruning.schedule`, normalised by their sum so that a file whose
 * fractions do not add up still previews (the validator reports the sum).
 */
import type { PruningConfig, TrainingConfig } from './schema';

export type PhaseKind = 'dense' | 'sparsify' | 'sparse';

/** How the target sparsity moves inside a phase. */
export type PhaseCurve = 'flat' | 'exponential' | 'polynomial';

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
  method: PruningConfig['method'];
  totalSteps: number;
  /** Target sparsity `s` of every pruned layer at the end of training (0 for `none`). */
  sparsity: number;
  /** Exponent of the sparsify curve (`c` for SA++, the ramp power for magnitude). */
  exponent: number;
  phases: Phase[];
  /** Sum of the configured fractions; 1 when the file is consistent. */
  fractionSum: number;
}

/** One configured length, with the schedule key(s) it comes from. */
export interface FractionPart {
  key: string;
  value: number;
}

interface PlannedPhase {
  kind: PhaseKind;
  length: number;
  cycle: number | null;
  curve: PhaseCurve;
  label: string;
}

const flat = (kind: PhaseKind, length: number, cycle: number | null, label: string): PlannedPhase => ({
  kind,
  length,
  cycle,
  curve: 'flat',
  label,
});

/** The phase lengths a method asks for, as fractions (not yet normalised). */
function plannedPhases(pruning: PruningConfig): PlannedPhase[] {
  switch (pruning.method) {
    case 'none':
      return [flat('dense', 1, null, 'dense training')];
    case 'magnitude': {
      const { dense, ramp, fine_tune } = pruning.schedule;
      const phases = [flat('dense', dense, null, 'dense training')];
      if (ramp > 0)
        phases.push({ kind: 'sparsify', length: ramp, cycle: null, curve: 'polynomial', label: 'gradual pruning' });
      phases.push(flat('sparse', fine_tune, null, 'sparse fine-tune'));
      return phases;
    }
    case 'acdc': {
      const { dense_warmup, cycles, cycle, sparse_share, extension, final_sparse } = pruning.schedule;
      const phases = [flat('dense', dense_warmup, null, 'dense warm-up')];
      for (let i = 1; i <= cycles; i++) {
        const denseLength = (1 - sparse_share) * cycle + (i === cycles ? extension : 0);
        phases.push(flat('sparse', sparse_share * cycle, i, `cycle ${i} · sparse`));
        phases.push(flat('dense', denseLength, i, `cycle ${i} · dense`));
      }
      phases.push(flat('sparse', final_sparse, null, 'final sparse fine-tune'));
      return phases;
    }
    case 'sapp': {
      const { dense_warmup, cycles, cycle, split, extension, final_sparse } = pruning.schedule;
      const phases = [flat('dense', dense_warmup, null, 'dense warm-up')];
      for (let i = 1; i < cycles; i++) {
        if (pruning.sparsification) {
          const [sparsify, sparse, dense] = split;
          phases.push({
            kind: 'sparsify',
            length: sparsify * cycle,
            cycle: i,
            curve: 'exponential',
            label: `cycle ${i} · sparsify`,
          });
          phases.push(flat('sparse', sparse * cycle, i, `cycle ${i} · sparse`));
          phases.push(flat('dense', dense * cycle, i, `cycle ${i} · dense`));
        } else {
          // The paper's ablation: equal dense and sparse halves.
          phases.push(flat('sparse', cycle / 2, i, `cycle ${i} · sparse`));
          phases.push(flat('dense', cycle / 2, i, `cycle ${i} · dense`));
        }
      }
      const last = cycle + extension;
      if (pruning.sparsification) {
        phases.push({
          kind: 'sparsify',
          length: last,
          cycle: cycles,
          curve: 'exponential',
          label: `cycle ${cycles} · sparsify`,
        });
      } else {
        phases.push(flat('dense', last, cycles, `cycle ${cycles} · dense`));
      }
      phases.push(flat('sparse', final_sparse, null, 'final sparse fine-tune'));
      return phases;
    }
  }
}

/**
 * The configured schedule lengths in the order the file states them, for the "fractions add up"
 * check and its quick fix. Repeated cycles count `cycles` times.
 */
export function scheduleFractionParts(pruning: PruningConfig): FractionPart[] {
  switch (pruning.method) {
    case 'none':
      return [];
    case 'magnitude': {
      const s = pruning.schedule;
      return [
        { key: 'dense', value: s.dense },
        { key: 'ramp', value: s.ramp },
        { key: 'fine_tune', value: s.fine_tune },
      ];
    }
    case 'acdc':
    case 'sapp': {
      const s = pruning.schedule;
      return [
        { key: 'dense_warmup', value: s.dense_warmup },
        { key: 'cycle', value: s.cycles * s.cycle },
        { key: 'extension', value: s.extension },
        { key: 'final_sparse', value: s.final_sparse },
      ];
    }
  }
}

export function buildSchedule(pruning: PruningConfig, totalSteps: number): Schedule {
  const planned = plannedPhases(pruning);
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
  const exponent = pruning.method === 'sapp' || pruning.method === 'magnitude' ? pruning.exponent : 1;
  return {
    method: pruning.method,
    totalSteps,
    sparsity: pruning.method === 'none' ? 0 : (pruning.sparsity ?? 0),
    exponent,
    phases,
    fractionSum: pruning.method === 'none' ? 1 : scheduleFractionParts(pruning).reduce((a, p) => a + p.value, 0),
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
