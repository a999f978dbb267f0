/**
 * Runs of the studies in bench/ as cells cached on disk: each finished run appends one JSON line
 * (its key and final metrics) to a results file, and a restarted study skips the cells already
 * there, so an interrupted study loses at most the run in progress. Runs are seeded, so a cell's
 * result does not depend on when it ran.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FinalMetrics } from '@protocol';
import { runExperiment } from '../server/src/runs/runExperiment';

export interface CellResult {
  key: string;
  metrics: FinalMetrics;
  /** Median step time (ms) and the run's wall time (s). */
  stepMs: number | null;
  seconds: number;
  /** What `inspect` read from the run folder, when the cell was run with one. */
  extra?: Record<string, number>;
}

export class CellCache {
  private readonly done = new Map<string, CellResult>();

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    if (existsSync(file))
      for (const line of readFileSync(file, 'utf8').split('\n'))
        if (line.trim()) {
          const cell = JSON.parse(line) as CellResult;
          this.done.set(cell.key, cell);
        }
  }

  get(key: string): CellResult | undefined {
    return this.done.get(key);
  }

  /**
   * The cell's result: from the cache, else from running the experiment `text` (written to `dir`);
   * `inspect` reads what else the study needs from the finished run folder.
   */
  async run(
    key: string,
    text: string,
    dir: string,
    inspect?: (runDir: string) => Record<string, number>,
  ): Promise<CellResult> {
    const cached = this.done.get(key);
    if (cached) return cached;
    const path = join(dir, `${key.replace(/[^A-Za-z0-9._-]+/g, '_')}.prune.yaml`);
    writeFileSync(path, text);
    const started = performance.now();
    const { info, dir: runDir } = await runExperiment(path);
    if (info.status !== 'completed' || !info.final)
      throw new Error(`${key}: ${info.status} ${info.error?.message ?? ''}`);
    const cell: CellResult = {
      key,
      metrics: info.final.metrics,
      stepMs: info.timing.step_ms_median,
      seconds: (performance.now() - started) / 1000,
      ...(inspect && { extra: inspect(runDir) }),
    };
    appendFileSync(this.file, `${JSON.stringify(cell)}\n`);
    this.done.set(key, cell);
    return cell;
  }
}

/** Mean, sample standard deviation and count. */
export function meanSd(xs: number[]): { mean: number; sd: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, sd, n };
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (the 95% interval). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The paired difference `a − b` (same seeds, in order): its mean and 95% t interval. */
export function pairedDifference(a: number[], b: number[]): { mean: number; low: number; high: number; n: number } {
  if (a.length !== b.length) throw new Error(`paired samples differ in size: ${a.length} vs ${b.length}`);
  const d = a.map((x, i) => x - b[i]!);
  const { mean, sd, n } = meanSd(d);
  const half = n > 1 ? (T975[Math.min(n - 1, T975.length) - 1] ?? 1.96) * (sd / Math.sqrt(n)) : NaN;
  return { mean, low: mean - half, high: mean + half, n };
}
