/**
 * Reproduction v2 (issue 14; spec §4, §6): the fixed trainer on
 * - the planted teacher, B ∈ {4, 8, 16} × s ∈ {0.75, 0.9, 0.95}, seeds 1-5 paired by seed (one
 *   teacher per seed and block size, the same for every method): magnitude, ACDC, SA++ and the
 *   dense student, with the paired differences SA++ − ACDC and SA++ − magnitude (95% intervals),
 *   and support precision@k beside its chance level and a random-mask control; which input groups
 *   the kept blocks reach, and what the block norms that magnitude and ACDC rank by follow;
 * - the sparsification ablation and c ∈ {1, 2, 4, 8} at B = 8, s = 0.9;
 * - weight decay at B = 8: none, decoupled (AdamW) and coupled ℓ2 (the default);
 * - the Fashion-MNIST MLP at 90% of 8x8 blocks (full data when installed), 3 seeds;
 * - the synthetic CTR task under the Criteo schedule, each training example seen once: log-loss
 *   and AUC against its dense model.
 * Writes docs/reproduction.md with every cell bolded by value and the paper's figures beside.
 * Each finished run is cached (bench/results/reproduction.jsonl, weight-decay.jsonl): a restart
 * skips it, so an interruption loses one run. Prints the total time.
 *
 *   nohup node --import tsx bench/reproduction.ts [--quick] > bench/results/reproduction.log 2>&1 &
 *
 * `--quick` runs one seed of everything on a small budget into its own cache, to try the script.
 * `--only teacher|fashion|ctr` runs one part and writes no document; `--from-cache` writes the
 * document without running the CTR seeds that are not cached yet, and lists them. The cache is not
 * committed: a fresh checkout reruns every cell (about 4 hours on 2 cores).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { SnapshotEvent } from '@protocol';
import { openDataset } from '../server/src/data/openDataset';
import { makeTeacher } from '../server/src/data/teacher';
import { FashionMnistData, TeacherData } from '../server/src/experiment/schema';
import { loadRun, readSnapshot } from '../server/src/runs/runReader';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CellCache, meanSd, pairedDifference, type CellResult } from './cells';
import { FASHION_VARIANTS, FULL_FASHION_DIR, fashionDataDir, fashionExperiment } from './fashionExperiment';
import { TEACHER_BATCH, teacherExperiment, teacherSteps, type TeacherCell } from '../test/helpers/teacherExperiment';
import { ctrExperiment, ctrTrainExamples } from './ctrExperiment';
import { WD_STAGES, weightDecayTable } from './weightDecaySettings';

const QUICK = process.argv.includes('--quick');
/** `--from-cache` writes the document from the cached cells and runs none of the CTR part's missing seeds. */
const FROM_CACHE = process.argv.includes('--from-cache');
/** `--only teacher|fashion|ctr` runs one part (two parts can run side by side on one cache); without it, all. */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const runsPart = (part: 'teacher' | 'fashion' | 'ctr') => ONLY === undefined || ONLY === part;
const SEEDS = QUICK ? [1] : [1, 2, 3, 4, 5];
const BLOCKS = QUICK ? [8] : [4, 8, 16];
const SPARSITIES = [0.75, 0.9, 0.95];
const TRAIN = QUICK ? 4000 : 20_000;
const EPOCHS = QUICK ? 4 : 20;
const FASHION_SEEDS = QUICK ? [1] : [1, 2, 3];
const FASHION_STEPS = QUICK ? 200 : 4690;
const FASHION_KEYS = ['dense', 'magnitude', 'acdc', 'sapp', 'ablation', 'sapp-decoupled'];
const CTR_SEEDS = QUICK ? [1] : [1, 2, 3];
const CTR_STEPS = QUICK ? 100 : 2000;
const CTR_SPARSITIES = [0.9];
const CTR_KEYS = ['magnitude', 'acdc', 'sapp'];

const results = join(__dirname, 'results');
const cache = new CellCache(join(results, QUICK ? 'reproduction-quick.jsonl' : 'reproduction.jsonl'));
const dir = mkdtempSync(join(tmpdir(), 'sparsity-repro-'));

/** The `pruning` lines of each teacher method (the schedules are the format's defaults). */
const TEACHER_METHODS = {
  magnitude: 'method: magnitude',
  acdc: 'method: acdc\n  pruned_weights: zero',
  sapp: 'method: sapp',
  ablation: 'method: sapp\n  sparsification: false',
  // Pruned once at initialisation by the block norms of the random initial weights: a random mask
  // chosen without the data, then trained; the floor for accuracy and support recovery.
  random: 'method: magnitude\n  schedule: { dense: 0, ramp: 0, fine_tune: 1 }',
  dense: 'method: none',
  // Why the baselines trail (B = 8, s = 0.9): ACDC masking instead of zeroing, and magnitude pruned
  // early enough to train its sparse model as long as SA++ trains its final support.
  'acdc-mask': 'method: acdc\n  pruned_weights: mask',
  'magnitude-early': 'method: magnitude\n  schedule: { dense: 0.15, ramp: 0, fine_tune: 0.85 }',
} as const;
type TeacherMethod = keyof typeof TEACHER_METHODS | `sapp-c${number}`;

function teacherPruning(method: TeacherMethod): string {
  const c = /^sapp-c(\d+)$/.exec(method);
  if (c) return `method: sapp\n  exponent: ${c[1]}`;
  return TEACHER_METHODS[method as keyof typeof TEACHER_METHODS];
}

/** Weight decay settings compared at B = 8 (the first is the trainer's default). */
const DECAYS = {
  coupled: { label: 'coupled ℓ2 (default)', training: '' },
  none: { label: 'none', training: '  weight_decay: 0' },
} as const;

async function teacher(method: TeacherMethod, block: number, sparsity: number, decay: keyof typeof DECAYS = 'coupled') {
  const out: CellResult[] = [];
  for (const seed of SEEDS) {
    const cell: TeacherCell = {
      seed,
      block,
      // `none` ignores the sparsity; one dense run per teacher.
      sparsity: method === 'dense' ? 0.5 : sparsity,
      pruning: teacherPruning(method),
      training: DECAYS[decay].training,
      trainExamples: TRAIN,
      epochs: EPOCHS,
    };
    const key = `teacher|${method}|B=${block}|s=${cell.sparsity}|decay=${decay}|seed=${seed}|n=${TRAIN}x${EPOCHS}`;
    const result = await cache.run(key, teacherExperiment(`t-${method}-${block}-${seed}`, cell), dir, keptCoverage);
    log(key, result);
    out.push(result);
  }
  return out;
}

/**
 * The magnitude runs at s = 0.9 once more (the same seeds and files; the same runs up to the
 * trainer's numerics), read for `normStructure`: what the block norms that magnitude and ACDC rank
 * by look like before the prune.
 */
async function magnitudeNorms(block: number): Promise<CellResult[]> {
  const out: CellResult[] = [];
  for (const seed of SEEDS) {
    const cell: TeacherCell = {
      seed,
      block,
      sparsity: 0.9,
      pruning: teacherPruning('magnitude'),
      trainExamples: TRAIN,
      epochs: EPOCHS,
    };
    const key = `teacher-norms|magnitude|B=${block}|s=0.9|decay=coupled|seed=${seed}|n=${TRAIN}x${EPOCHS}`;
    const result = await cache.run(key, teacherExperiment(`n-magnitude-${block}-${seed}`, cell), dir, normStructure);
    log(key, result);
    out.push(result);
  }
  return out;
}

function log(key: string, r: CellResult): void {
  const m = r.metrics;
  const quality =
    m.accuracy !== undefined
      ? `accuracy ${(100 * m.accuracy).toFixed(2)}%`
      : `log-loss ${m.log_loss?.toFixed(4)} AUC ${m.auc?.toFixed(4)}`;
  const support = m.support_precision !== undefined ? `, support precision ${m.support_precision.toFixed(3)}` : '';
  console.log(`${key}: ${quality}${support} (${r.seconds.toFixed(1)} s)`);
}

const acc = (cells: CellResult[]) => cells.map((c) => 100 * c.metrics.accuracy!);
const precision = (cells: CellResult[]) => cells.map((c) => c.metrics.support_precision!);
const pm = (xs: number[], digits = 1) => {
  const { mean, sd } = meanSd(xs);
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
};
const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
/** A paired difference with its 95% interval, bold when the interval excludes 0. */
const diffCell = (a: number[], b: number[], digits = 1) => {
  const d = pairedDifference(a, b);
  if (a.length < 2) return signed(d.mean, digits);
  const text = `${signed(d.mean, digits)} [${signed(d.low, digits)}, ${signed(d.high, digits)}]`;
  return d.low > 0 || d.high < 0 ? `**${text}**` : text;
};
/** Cells of one row, the best mean in bold (highest, or lowest with `lower`). */
function boldBest(samples: number[][], digits = 1, lower = false): string[] {
  const means = samples.map((s) => meanSd(s).mean);
  const best = lower ? Math.min(...means) : Math.max(...means);
  return samples.map((s, i) => (means[i] === best ? `**${pm(s, digits)}**` : pm(s, digits)));
}

/**
 * Pearson correlation of `x` and `y` over every cell of `runs` (one list of cells per method, in
 * seed order) after removing each seed's mean from both: how the methods' differences relate
 * within a teacher, without the spread between teachers. NaN when either does not vary.
 */
function withinSeedCorrelation(
  runs: CellResult[][],
  x: (c: CellResult) => number,
  y: (c: CellResult) => number,
): number {
  const seeds = Math.min(...runs.map((cells) => cells.length));
  const dx: number[] = [];
  const dy: number[] = [];
  for (let i = 0; i < seeds; i++) {
    const xs = runs.map((cells) => x(cells[i]!));
    const ys = runs.map((cells) => y(cells[i]!));
    const mx = meanSd(xs).mean;
    const my = meanSd(ys).mean;
    dx.push(...xs.map((v) => v - mx));
    dy.push(...ys.map((v) => v - my));
  }
  const dot = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
  return dot(dx, dy) / Math.sqrt(dot(dx, dx) * dot(dy, dy));
}

/**
 * Block rows of `dense_1` (8 input pixels each) whose every pixel is non-zero in under 10% of the
 * training images: blocks there see almost no input, so their weights and logits get almost no
 * gradient of their own (issue 18 item 10 asked whether they drift into the kept set).
 */
async function quietBlockRows(dataDir: string): Promise<boolean[]> {
  const data = FashionMnistData.parse({ source: 'fashion-mnist', path: dataDir, batch_size: 1000 });
  const dataset = await openDataset({ seed: 1, data }, dataDir);
  const nonZero = new Float64Array(784);
  let n = 0;
  for await (const batch of dataset.train.batches({ batchSize: 1000, epoch: 0, shuffleSeed: null })) {
    for (let i = 0; i < batch.size; i++)
      for (let p = 0; p < 784; p++) if (batch.features[i * 784 + p]! > 0) nonZero[p]!++;
    n += batch.size;
  }
  await dataset.close();
  return Array.from({ length: 98 }, (_, r) => nonZero.slice(8 * r, 8 * r + 8).every((c) => c / n < 0.1));
}

/**
 * How the kept blocks of `dense_1` spread at the end of a run: over how many block rows (groups of
 * input features) and block columns (groups of hidden units) of the grid.
 */
export function keptCoverage(runDir: string): Record<string, number> {
  const last = loadRun(runDir)
    .events.filter((e): e is SnapshotEvent => e.type === 'snapshot')
    .at(-1);
  const layer = last && readSnapshot(runDir, last).find((l) => l.name === 'dense_1');
  if (!layer) return {};
  const rows = new Set<number>();
  const cols = new Set<number>();
  layer.mask.forEach((m, i) => {
    if (!m) return;
    rows.add(Math.floor(i / layer.gridCols));
    cols.add(i % layer.gridCols);
  });
  return { rowsCovered: rows.size, gridRows: layer.gridRows, colsCovered: cols.size, gridCols: layer.gridCols };
}

/**
 * What block norms rank in the planted task: on the last dense snapshot of `dense_1` (before
 * magnitude pruning), the shares of the variance of the log block norms that the block rows (input
 * groups) and the block columns (hidden-unit groups) explain, and the correlation of each row's
 * mean log norm with the number of blocks the teacher planted in that row.
 */
function normStructure(runDir: string): Record<string, number> {
  const run = loadRun(runDir);
  const dense = run.events.filter((e): e is SnapshotEvent => e.type === 'snapshot' && e.phase === 0).at(-1);
  const layer = dense && readSnapshot(runDir, dense).find((l) => l.name === 'dense_1');
  if (!layer) return {};
  const { gridRows: rows, gridCols: cols } = layer;
  const x = Array.from(layer.scores, (v) => Math.log(v));
  const mean = meanSd(x).mean;
  const rowMeans = Array.from({ length: rows }, (_, r) => meanSd(x.slice(r * cols, (r + 1) * cols)).mean);
  const colMeans = Array.from(
    { length: cols },
    (_, c) => meanSd(Array.from({ length: rows }, (_, r) => x[r * cols + c]!)).mean,
  );
  const total = x.reduce((sum, v) => sum + (v - mean) ** 2, 0);
  const explained = (means: number[], each: number) =>
    means.reduce((sum, v) => sum + each * (v - mean) ** 2, 0) / total;
  const data = TeacherData.parse((run.config as { data: unknown }).data);
  const { support } = makeTeacher(data, data.teacher_seed ?? 1).support;
  const planted = rowMeans.map((_, r) => support.slice(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0));
  const pm = meanSd(planted).mean;
  const rm = meanSd(rowMeans).mean;
  const dot = rowMeans.reduce((sum, v, r) => sum + (v - rm) * (planted[r]! - pm), 0);
  const norm = Math.sqrt(
    rowMeans.reduce((sum, v) => sum + (v - rm) ** 2, 0) * planted.reduce((sum, v) => sum + (v - pm) ** 2, 0),
  );
  return {
    rowShare: explained(rowMeans, cols),
    colShare: explained(colMeans, rows),
    rowPlantedR: dot / norm,
    step: dense.step,
  };
}

/** Kept blocks of `dense_1` at the end of a run, on quiet block rows and on the rest. */
function keptOnQuietInputs(runDir: string, quiet: boolean[]): Record<string, number> {
  const last = loadRun(runDir)
    .events.filter((e): e is SnapshotEvent => e.type === 'snapshot')
    .at(-1);
  const layer = last && readSnapshot(runDir, last).find((l) => l.name === 'dense_1');
  if (!layer) return {};
  let onQuiet = 0;
  let kept = 0;
  layer.mask.forEach((m, i) => {
    kept += m;
    if (m && quiet[Math.floor(i / layer.gridCols)]) onQuiet++;
  });
  return { keptOnQuiet: onQuiet, kept, quietBlocks: quiet.filter(Boolean).length * layer.gridCols };
}

async function main(): Promise<void> {
  const started = performance.now();
  const lines: string[] = [];
  const md = (...text: string[]) => lines.push(...text);

  // ---- teacher grid --------------------------------------------------------------------------
  const grid = new Map<string, CellResult[]>();
  const norms = new Map<number, CellResult[]>();
  const at = (method: TeacherMethod, b: number, s: number, decay: keyof typeof DECAYS = 'coupled') =>
    grid.get(`${method}|${b}|${s}|${decay}`)!;
  const fill = async (method: TeacherMethod, b: number, s: number, decay: keyof typeof DECAYS = 'coupled') =>
    grid.set(`${method}|${b}|${s}|${decay}`, await teacher(method, b, s, decay));
  if (runsPart('teacher')) {
    for (const b of BLOCKS) {
      await fill('dense', b, 0.5);
      for (const s of SPARSITIES) for (const m of ['sapp', 'acdc', 'magnitude'] as const) await fill(m, b, s);
    }
    for (const s of SPARSITIES) await fill('random', 8, s);
    await fill('ablation', 8, 0.9);
    for (const c of [1, 2, 8]) await fill(`sapp-c${c}`, 8, 0.9);
    for (const s of SPARSITIES) for (const m of ['sapp', 'acdc', 'magnitude'] as const) await fill(m, 8, s, 'none');
    await fill('acdc-mask', 8, 0.9);
    await fill('magnitude-early', 8, 0.9);
    for (const b of BLOCKS) norms.set(b, await magnitudeNorms(b));
  }

  // ---- the weight-decay study (cached by bench/weightDecayStudy.ts) ---------------------------
  const decayTables = new Map<string, string[]>();
  if (!QUICK && ONLY === undefined) {
    const decayCache = new CellCache(join(results, 'weight-decay.jsonl'));
    for (const stage of Object.keys(WD_STAGES)) decayTables.set(stage, await weightDecayTable(stage, decayCache, dir));
  }

  // ---- Fashion-MNIST -------------------------------------------------------------------------
  const fashionKey = (key: string, seed: number, dataDir: string) =>
    `fashion|${key}|seed=${seed}|steps=${FASHION_STEPS}|data=${dataDir}`;
  // The document is written from the cache: cells run on the full set stay its rows after the full
  // set is uninstalled. The data is read only when a cell has to run.
  const fashionDir = FASHION_SEEDS.every((seed) => cache.get(fashionKey('sapp', seed, FULL_FASHION_DIR)))
    ? FULL_FASHION_DIR
    : fashionDataDir();
  const fashionMissing = FASHION_KEYS.some((k) =>
    FASHION_SEEDS.some((seed) => !cache.get(fashionKey(k, seed, fashionDir))),
  );
  const quiet = runsPart('fashion') && fashionMissing ? await quietBlockRows(fashionDir) : [];
  const fashion = new Map<string, CellResult[]>();
  for (const key of runsPart('fashion') ? FASHION_KEYS : []) {
    const cells: CellResult[] = [];
    for (const seed of FASHION_SEEDS) {
      const cellKey = fashionKey(key, seed, fashionDir);
      const r = await cache.run(cellKey, fashionExperiment(key, seed, FASHION_STEPS, fashionDir), dir, (runDir) =>
        keptOnQuietInputs(runDir, quiet),
      );
      log(cellKey, r);
      cells.push(r);
    }
    fashion.set(key, cells);
  }

  // ---- synthetic CTR -------------------------------------------------------------------------
  // Seed by seed, so that an interrupted study leaves complete pairs; with --from-cache only the
  // seeds whose every cell is cached (the rest are listed in the document).
  const ctr = new Map<string, CellResult[]>();
  const ctrCells = [['dense', 0.5] as const, ...CTR_SPARSITIES.flatMap((s) => CTR_KEYS.map((k) => [k, s] as const))];
  const ctrKey = (key: string, s: number, seed: number) =>
    `ctr|${key}|s=${s}|seed=${seed}|steps=${CTR_STEPS}|n=${ctrTrainExamples(CTR_STEPS)}`;
  const ctrSeeds = FROM_CACHE
    ? CTR_SEEDS.filter((seed) => ctrCells.every(([key, s]) => cache.get(ctrKey(key, s, seed))))
    : CTR_SEEDS;
  const ctrMissing = CTR_SEEDS.filter((seed) => !ctrSeeds.includes(seed));
  for (const seed of runsPart('ctr') ? ctrSeeds : [])
    for (const [key, s] of ctrCells) {
      const cellKey = ctrKey(key, s, seed);
      const r = await cache.run(
        cellKey,
        ctrExperiment(key, seed, s, CTR_STEPS),
        dir,
        key === 'dense' ? undefined : keptCoverage,
      );
      log(cellKey, r);
      ctr.set(`${key}|${s}`, [...(ctr.get(`${key}|${s}`) ?? []), r]);
    }
  const minutes = (performance.now() - started) / 60_000;
  const runs = [grid, norms, fashion, ctr].reduce((n, m) => n + [...m.values()].reduce((k, c) => k + c.length, 0), 0);
  const computeMinutes = [grid, norms, fashion, ctr]
    .flatMap((m) => [...m.values()].flat())
    .reduce((sum, c) => sum + c.seconds / 60, 0);
  if (ONLY !== undefined) {
    console.log(
      `\n${ONLY}: total ${minutes.toFixed(1)} minutes (${runs} runs, ${computeMinutes.toFixed(0)} minutes of run time)`,
    );
    rmSync(dir, { recursive: true, force: true });
    return;
  }

  // ---- the document --------------------------------------------------------------------------
  const steps = teacherSteps(TRAIN, EPOCHS);
  md(
    '# Reproduction v2: SA++ against ACDC and magnitude pruning, with the statistics',
    '',
    `Generated by \`node --import tsx bench/reproduction.ts${QUICK ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}: ${runs} runs, ${computeMinutes.toFixed(0)} minutes of run time`,
    `(this invocation ${minutes.toFixed(1)} minutes; cached runs are not rerun). wasm backend with the transposed-matmul patch,`,
    '1 thread, on a 2-core machine shared with other work (which slows runs but does not change results: every run is seeded).',
    '',
    ...(QUICK ? [] : PROVENANCE),
    'Read the tables with the statistics: mean ± sd over seeds; differences are **paired by seed** (each seed has its own',
    'teacher and initialisation, shared by every method) with a 95% t interval, bold when it excludes 0. A mean is bold when',
    'it is the best of its row, whatever the interval says.',
    '',
    '## Training as the paper trains (what changed since v1)',
    '',
    '- **Weight decay** is coupled ℓ2 by default (`training.weight_decay_mode: coupled`): `λ·w` joins the gradient Adam',
    "  sees, on the kernels and on the SA++ logits (Lemma 2.1's penalty `(λ/2)(‖L‖² + ‖W‖²)`, under which the",
    '  exponential block mask acts as a group log-sum penalty). v1 applied `w·(1 − lr·λ)` after each step, which with',
    '  lr 2e-3 and λ 1e-4 shrank the weights by 0.03% over a whole run: weight decay was off. The choice and its numbers',
    '  are in "Weight decay" below.',
    '- **`pruning.reset_optimizer`** is read: `true` (the default, the paper) restarts Adam at every phase boundary.',
    '- **Top-k** ranks SA++ blocks by their logits, i.e. `A` before the clip (the clip tied every block at its floor),',
    '  and breaks exact ties in a seeded random order instead of by index.',
    '- **Support recovery** is precision@k of the kept blocks: the share of the `k` kept blocks of `dense_1` that are',
    "  planted, after matching the student's block columns to the teacher's (hidden units are only defined up to a",
    '  permutation), printed beside its chance level: the same precision for random masks of `k` blocks. Matching lifts',
    '  chance far above the planted share of 0.25 when few blocks are kept (0.83 for 13 of 128 blocks), so only the',
    '  distance to chance means anything. v1 reported F1, which cannot reach 1 when `k` is below the planted count.',
    '  The random-mask control below trains a student on a mask drawn at initialisation.',
    '',
    '## Planted teacher (spec §6.1)',
    '',
    `Teacher and student 64→128→10, ReLU; the teacher's first layer is block-sparse with B×B blocks (B as in the row),`,
    `25% of blocks kept; homogeneous inputs; labels argmax(3·logits + 0.1·ε); ${TRAIN} train / 5000 test examples.`,
    `Only \`dense_1\` (64×128) is pruned. Adam 2e-3, batch ${TEACHER_BATCH}, ${EPOCHS} epochs = ${steps} steps, coupled`,
    'weight decay 1e-3 on kernels and logits, optimizer reset at every phase boundary. Schedules: the format defaults',
    '(SA++: 10% dense, 6 × (sparsify, sparse, dense) in thirds of 10%, 15% sparsify, 15% sparse, c = 4, pruned blocks',
    'masked, A clipped to [1 − s, 1/(1 − s)]; ACDC: 10% dense, 7 × (sparse 5%, dense 5%) with the last dense +5%, 15%',
    'sparse, pruned weights zeroed; magnitude: 70% dense, one-shot prune by block Frobenius norm, 30% fine-tune).',
    `Seeds ${SEEDS.join(', ')}.`,
    '',
    '### Test accuracy (%)',
    '',
    '| B | s | dense | magnitude | ACDC | SA++ | SA++ − ACDC [95%] | SA++ − magnitude [95%] |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const b of BLOCKS)
    for (const s of SPARSITIES) {
      const [mag, acdc, sapp] = (['magnitude', 'acdc', 'sapp'] as const).map((m) => acc(at(m, b, s)));
      md(
        `| ${b} | ${s} | ${pm(acc(at('dense', b, 0.5)))} | ${boldBest([mag!, acdc!, sapp!]).join(' | ')} | ${diffCell(sapp!, acdc!)} | ${diffCell(sapp!, mag!)} |`,
      );
    }
  md(
    '',
    'Paper (Table 1, ImageNet ResNet50, 8×8 to 64×64 blocks): SA++ ≥ ACDC in all 15 cells, the gap growing with',
    'sparsity, 0-0.4 pp at 70% and 1.8-2.9 pp at the highest sparsity that trained (8×8: +0.03, +0.43, +1.82 pp at',
    '70/80/90%). Spec §6.4 (NumPy prototype of this task, 60k train, no clip, 3 seeds; magnitude / ACDC / SA++): B = 8:',
    '64.0 / 70.6 / 75.7 at s = 0.75, 60.1 / 59.0 / 67.0 at 0.9, 50.8 / 46.1 / 56.4 at 0.95; s = 0.9: B = 4 62.3 / 65.2 /',
    '67.7, B = 16 48.1 / 43.7 / 55.9; dense 78.4.',
    '',
    '### Support recovery: precision@k of the kept blocks, beside chance',
    '',
    'Chance is the precision of random masks with as many blocks, after the same matching. The random-mask control',
    '(B = 8) prunes once at initialisation, by the norms of the random initial blocks, and trains on that mask.',
    '',
    '| B | s | k | chance | random mask | magnitude | ACDC | SA++ | SA++ − ACDC [95%] |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const b of BLOCKS)
    for (const s of SPARSITIES) {
      const blocks = (64 / b) * (128 / b);
      const k = Math.max(1, Math.round((1 - s) * blocks));
      const [mag, acdc, sapp] = (['magnitude', 'acdc', 'sapp'] as const).map((m) => precision(at(m, b, s)));
      const random = b === 8 ? pm(precision(at('random', 8, s)), 2) : '';
      const chance = meanSd(at('sapp', b, s).map((c) => c.metrics.support_precision_chance!)).mean.toFixed(2);
      md(
        `| ${b} | ${s} | ${k} of ${blocks} | ${chance} | ${random} | ${boldBest([mag!, acdc!, sapp!], 2).join(' | ')} | ${diffCell(sapp!, acdc!, 2)} |`,
      );
    }
  const covered = (cells: CellResult[], what: 'rowsCovered' | 'colsCovered') =>
    pm(
      cells.map((c) => c.extra?.[what] ?? NaN),
      1,
    );
  md(
    '',
    'The paper reports no support recovery (its tasks have no planted support).',
    '',
    `Random-mask accuracy at B = 8: ${SPARSITIES.map((s) => `s = ${s}: ${pm(acc(at('random', 8, s)))}%`).join('; ')}. Paired`,
    'differences to it (pp, 95%):',
    '',
    '| s | SA++ − random mask | ACDC − random mask | magnitude − random mask |',
    '| --- | --- | --- | --- |',
    ...SPARSITIES.map(
      (s) =>
        `| ${s} | ${(['sapp', 'acdc', 'magnitude'] as const).map((m) => diffCell(acc(at(m, 8, s)), acc(at('random', 8, s)))).join(' | ')} |`,
    ),
    '',
    '### Where the kept blocks are: input row groups reached, and what that explains',
    '',
    'Block rows of `dense_1` are groups of B input features, block columns groups of B hidden units. The teacher plants',
    'its blocks uniformly at random (a quarter of each row group on average), so nearly every group of inputs carries',
    'signal, and a student that keeps no block in a row group cannot see those inputs at all. Mean ± sd over seeds of',
    'the row groups / column groups that hold at least one kept block at the end. The last two columns pool every run',
    'at that B and s (the methods above, and at B = 8 the random masks, the decay and ablation variants) and correlate',
    "accuracy with the rows reached and with support precision *within* seeds (each seed's mean removed from both),",
    'so teacher difficulty drops out:',
    '',
    '| B | s | k | rows / cols | random mask | magnitude | ACDC | SA++ | r(accuracy, rows) | r(accuracy, precision) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...BLOCKS.flatMap((b) =>
      SPARSITIES.map((s) => {
        const blocks = (64 / b) * (128 / b);
        const reach = (m: TeacherMethod) =>
          b === 8 || m !== 'random'
            ? `${covered(at(m, b, s), 'rowsCovered')} / ${covered(at(m, b, s), 'colsCovered')}`
            : '';
        // Every run at this B and s but the dense student (which keeps every block).
        const runs = [...grid.entries()]
          .filter(([key]) => key.split('|')[1] === String(b) && key.split('|')[2] === String(s))
          .filter(([key]) => !key.startsWith('dense|'))
          .map(([, cells]) => cells);
        const accuracy = (c: CellResult) => c.metrics.accuracy!;
        const r = (other: (c: CellResult) => number) => {
          const value = withinSeedCorrelation(runs, accuracy, other);
          return Number.isFinite(value) ? signed(value, 2).replace('+', '') : '–';
        };
        const rows = r((c) => c.extra?.['rowsCovered'] ?? NaN);
        const prec = r((c) => c.metrics.support_precision!);
        return `| ${b} | ${s} | ${Math.max(1, Math.round((1 - s) * blocks))} of ${blocks} | ${64 / b} / ${128 / b} | ${(['random', 'magnitude', 'acdc', 'sapp'] as const).map(reach).join(' | ')} | ${rows} | ${prec} |`;
      }),
    ),
    '',
    `SA++ without sparsification at B = 8, s = 0.9: ${covered(at('ablation', 8, 0.9), 'rowsCovered')} rows, ${covered(at('ablation', 8, 0.9), 'colsCovered')} cols.`,
    '',
    'What the block norms rank: the magnitude runs at s = 0.9 again (same seeds and files), read on the last dense',
    'snapshot before the prune. Share of the variance of the log block norms of `dense_1` explained by the block rows',
    "(input groups) and by the block columns (hidden-unit groups), and the correlation of each row's mean log norm with",
    'the number of blocks the teacher planted in that row (mean ± sd over seeds):',
    '',
    '| B | snapshot step | rows explain | columns explain | r(row norm, planted blocks in the row) | largest accuracy difference, rerun − cached (pp) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...BLOCKS.map((b) => {
      const cells = norms.get(b)!;
      const share = (what: string) => {
        // A teacher with as many planted blocks in every row has no correlation to give.
        const values = cells.map((c) => c.extra?.[what] ?? NaN).filter(Number.isFinite);
        return `${pm(values, 2)}${values.length < cells.length ? ` (${values.length} seeds)` : ''}`;
      };
      const drift = Math.max(
        ...cells.map((c, i) => 100 * Math.abs(c.metrics.accuracy! - at('magnitude', b, 0.9)[i]!.metrics.accuracy!)),
      );
      return `| ${b} | ${cells[0]!.extra?.['step'] ?? '?'} | ${share('rowShare')} | ${share('colShare')} | ${share('rowPlantedR')} | ${drift.toFixed(2)} |`;
    }),
    '',
    '### Ablations at B = 8, s = 0.9',
    '',
    '| SA++ variant | accuracy (%) | − SA++ (c = 4) [95%] | support precision |',
    '| --- | --- | --- | --- |',
  );
  const base = acc(at('sapp', 8, 0.9));
  const variants: [string, TeacherMethod][] = [
    ['SA++ (c = 4, default)', 'sapp'],
    ['without sparsification (Table 3 ablation)', 'ablation'],
    ['c = 1', 'sapp-c1'],
    ['c = 2', 'sapp-c2'],
    ['c = 8', 'sapp-c8'],
  ];
  const variantMeans = variants.map(([, m]) => meanSd(acc(at(m, 8, 0.9))).mean);
  variants.forEach(([label, m], i) => {
    const a = acc(at(m, 8, 0.9));
    const text = variantMeans[i] === Math.max(...variantMeans) ? `**${pm(a)}**` : pm(a);
    md(`| ${label} | ${text} | ${m === 'sapp' ? '' : diffCell(a, base)} | ${pm(precision(at(m, 8, 0.9)), 2)} |`);
  });
  md(
    '',
    'Paper: Table 3, without the sparsification phase SA++ loses 0.9 pp on average, 1.41 pp at 8×8 and 90%; Table 4,',
    'c = 2, 4, 8 give 69.40, 69.56, 69.20% at 8×8 and 90% (c = 1 is not in the paper). Spec §6.4: the ablation 63.1',
    'against SA++ 67.0 (−3.9 pp) at B = 8, s = 0.9.',
    '',
    '### Why ACDC and magnitude trail (B = 8, s = 0.9)',
    '',
    '| variant | accuracy (%) | − the method as above [95%] | − SA++ [95%] | support precision |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [label, variant, method] of [
    ['ACDC masking pruned blocks (not zeroing)', 'acdc-mask', 'acdc'],
    ['magnitude pruned at 15% (85% sparse fine-tune)', 'magnitude-early', 'magnitude'],
  ] as const) {
    const a = acc(at(variant, 8, 0.9));
    md(
      `| ${label} | ${pm(a)} | ${diffCell(a, acc(at(method, 8, 0.9)))} | ${diffCell(a, base)} | ${pm(precision(at(variant, 8, 0.9)), 2)} |`,
    );
  }
  md(
    '',
    "The paper's baselines: ACDC zeroes pruned weights on ImageNet and masks them on Criteo; magnitude trains dense for",
    '70-85% of the steps, then prunes once and fine-tunes (spec §3, §5 item 15).',
    '',
    '### Weight decay at B = 8 (coupled ℓ2 is the default)',
    '',
    'Coupled λ = 1e-3 (the default) on kernels and logits against no decay, for every method (decoupled decay at any λ',
    'up to 0.1 is indistinguishable from none: the study below).',
    '',
    '| s | weight decay | magnitude | ACDC | SA++ | SA++ − ACDC [95%] |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const s of SPARSITIES)
    for (const decay of ['coupled', 'none'] as const) {
      const [mag, acdc, sapp] = (['magnitude', 'acdc', 'sapp'] as const).map((m) => acc(at(m, 8, s, decay)));
      md(
        `| ${s} | ${DECAYS[decay].label} | ${boldBest([mag!, acdc!, sapp!]).join(' | ')} | ${diffCell(sapp!, acdc!)} |`,
      );
    }

  for (const [stage, table] of decayTables)
    md(
      '',
      `#### The study, ${stage}: ${WD_STAGES[stage]!.title}`,
      '',
      'SA++ test accuracy %, B = 8, seeds 1-5; in brackets the paired difference to the first row [95%].',
      '',
      ...table,
    );
  md(
    '',
    'Paper (App. C.1): weight decay "significantly boosts performance", also on the attention logits; no figures.',
    '',
    '## Fashion-MNIST MLP at 90% of 8×8 blocks',
    '',
    `784-512-256-10 on ${fashionDir === FULL_FASHION_DIR ? 'the full dataset (60k train, 10k test; Debian dataset-fashion-mnist)' : 'the bundled 10k/2k subset (install dataset-fashion-mnist for the full set)'},`,
    `${FASHION_STEPS} steps of Adam 1e-3 at batch 128 (10 epochs), the hidden layers pruned at 90% of 8×8 blocks (\`output\``,
    `excluded), default weight decay; seeds ${FASHION_SEEDS.join(', ')}. Test accuracy (%):`,
    '',
    `| ${FASHION_KEYS.map((k) => FASHION_VARIANTS[k]!.label).join(' | ')} | SA++ − ACDC [95%] |`,
    `|${FASHION_KEYS.map(() => ' --- |').join('')} --- |`,
  );
  const fashionAcc = FASHION_KEYS.map((k) => acc(fashion.get(k)!));
  // Recorded by each pruned cell when it ran (64 block columns per block row of `dense_1`).
  const quietRows = (fashion.get('sapp')![0]!.extra?.['quietBlocks'] ?? NaN) / 64;
  const pruned = boldBest(fashionAcc.slice(1));
  md(
    `| ${pm(fashionAcc[0]!)} | ${pruned.join(' | ')} | ${diffCell(acc(fashion.get('sapp')!), acc(fashion.get('acdc')!))} |`,
    '',
    `Paired differences (pp, 95%): SA++ − magnitude ${diffCell(acc(fashion.get('sapp')!), acc(fashion.get('magnitude')!), 2)};`,
    `SA++ − SA++ without sparsification ${diffCell(acc(fashion.get('sapp')!), acc(fashion.get('ablation')!), 2)}; SA++ − dense`,
    `${diffCell(acc(fashion.get('sapp')!), acc(fashion.get('dense')!), 2)}; SA++ with coupled (default) − decoupled weight decay`,
    `${diffCell(acc(fashion.get('sapp')!), acc(fashion.get('sapp-decoupled')!), 2)}.`,
    '',
    `Kept blocks of \`dense_1\` (627 of 6272) on quiet inputs: the ${quietRows} block rows whose 8 pixels are each`,
    'non-zero in under 10% of the training images, which get almost no gradient of their own:',
    FASHION_KEYS.filter((k) => k !== 'dense')
      .map(
        (k) =>
          `${FASHION_VARIANTS[k]!.label} ${fashion
            .get(k)!
            .map((c) => c.extra?.['keptOnQuiet'] ?? '?')
            .join(', ')}`,
      )
      .join('; ') + '.',
    '',
    'The paper has no Fashion-MNIST run; its nearest cell is ImageNet 8×8 at 90%, SA++ 69.56 against ACDC 67.74',
    '(+1.82 pp). v1 of this document (weight decay in effect off) had magnitude 86.8 ± 0.1, ACDC 87.7 ± 0.0, SA++',
    '88.6 ± 0.1 and the ablation 87.7 ± 0.3 here, with the same schedules.',
  );
  md(
    '',
    "## Synthetic CTR under the Criteo schedule (the paper's Table 2, scaled)",
    '',
    'Click data in the Criteo layout (13 numeric, 26 categorical features, vocabulary 1000) from a planted logistic',
    `teacher with pairwise interactions, positive rate 0.25 (predicting it scores a log-loss of about 0.56);`,
    `${ctrTrainExamples(CTR_STEPS)} training examples, each seen once, and 10k test (the paper's 33M Criteo examples are far`,
    'more than its model can memorise; 20 passes over 50k examples were memorised here: dense test log-loss 1.28).',
    'Per-feature embeddings of 8 (312 inputs), dense layers',
    `400-400-400, one logit; only \`dense_1\` (312×400, 8×8 blocks) pruned. Adam 2e-3 decaying exponentially to 3e-4,`,
    `batch 512, ${CTR_STEPS} steps. Schedules after the paper's Criteo run (spec §5.16): SA++ 20% dense, 10 cycles of 6%`,
    '(thirds), the last one sparsify only, 20% sparse; ACDC 20% dense, 10 × (sparse 3%, dense 3%), 20% sparse, pruned',
    `blocks masked (as the paper's Criteo ACDC); magnitude 80% dense, 20% fine-tune. Seeds ${ctrSeeds.join(', ')}.`,
    '',
    '| s | metric | dense | magnitude | ACDC | SA++ | SA++ − ACDC [95%] |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const s of ctrSeeds.length > 0 ? CTR_SPARSITIES : [])
    for (const [metric, lower] of [
      ['log_loss', true],
      ['auc', false],
    ] as const) {
      const values = (key: string, at: number) => ctr.get(`${key}|${at}`)!.map((c) => c.metrics[metric]!);
      const cells = CTR_KEYS.map((k) => values(k, s));
      md(
        `| ${s} | ${metric === 'log_loss' ? 'log-loss' : 'AUC'} | ${pm(values('dense', 0.5), 4)} | ${boldBest(cells, 4, lower).join(' | ')} | ${diffCell(values('sapp', s), values('acdc', s), 4)} |`,
      );
    }
  if (ctrSeeds.length > 0)
    md(
      '',
      "Input features reached: block rows of `dense_1` that hold a kept block at the end (each row is one feature's",
      `8-wide embedding; 39 rows): ${CTR_SPARSITIES.flatMap((s) =>
        CTR_KEYS.map(
          (k) =>
            `${k === 'sapp' ? 'SA++' : k === 'acdc' ? 'ACDC' : k} ${covered(ctr.get(`${k}|${s}`)!, 'rowsCovered')}`,
        ),
      ).join(', ')}.`,
    );
  md(
    '',
    ...(ctrMissing.length > 0
      ? [
          `Not run yet: seed${ctrMissing.length > 1 ? 's' : ''} ${ctrMissing.join(', ')} of every column (\`node --import tsx bench/reproduction.ts --only ctr\`,`,
          'then this script without flags to write the document).',
          '',
        ]
      : []),
    'Paper (Table 2, Criteo, 33M examples, 390×400 first layer, 3 runs; validation log-loss, dense 0.4489): at 90%,',
    'block 5: magnitude 0.4523, ACDC 0.4517, SA++ 0.4515; block 10: 0.4693, 0.4580, 0.4535. SA++ is best in all 15',
    'cells, the margin widening with block size and sparsity. AUC is only plotted (Fig. 5), not tabulated.',
    '',
  );
  md(...FINDINGS);
  // The ResNet section comes from bench/resnetStudy.ts (hours of runs of its own): kept as it is.
  const docFile = join(__dirname, '..', 'docs', QUICK ? 'reproduction-quick.md' : 'reproduction.md');
  const previous = existsSync(docFile) ? readFileSync(docFile, 'utf8') : '';
  const resnet = previous.indexOf(RESNET_SECTION);
  writeFileSync(docFile, `${lines.join('\n')}\n${resnet >= 0 ? `\n${previous.slice(resnet)}` : ''}`);
  console.log(lines.join('\n'));
  console.log(`\ntotal ${minutes.toFixed(1)} minutes (${runs} runs, ${computeMinutes.toFixed(0)} minutes of run time)`);
  rmSync(dir, { recursive: true, force: true });
}

/** Where docs/reproduction.md's ResNet section starts (written from bench/resnetStudy.ts's results). */
const RESNET_SECTION = '## ResNet on Fashion-MNIST';

/** Which checkout ran the cached cells (a cell keeps the result of the trainer that ran it). */
const PROVENANCE: string[] = [
  'The teacher and Fashion-MNIST cells ran on the issue-14 trainer before its merge (branch `sapp`, d4dca8f, tf.train.adam);',
  'the CTR cells and the block-norm reruns on main after the merge (the fused wasm Adam and block-sparse training',
  "kernels of other issues). Main reruns the cached magnitude cells to within 0.24 pp (the block-norm table's last",
  'column): the two trainers round differently, and the runs are otherwise the same.',
  '',
];

/** The CTR part of the findings. */
const CTR_FINDINGS: string[] = [
  '**Synthetic CTR: SA++ ties ACDC.** With each example seen once, pruning 90% of `dense_1` costs log-loss against the',
  'dense model: magnitude +0.0072, ACDC +0.0031, SA++ +0.0024 (means over 3 seeds). SA++ − ACDC is −0.0002, −0.0021 and',
  "+0.0000 by seed, an interval that includes 0, and the AUCs agree to 0.002. This is the paper's own pattern at block 5",
  'and 90% (costs +0.0034, +0.0028, +0.0026; SA++ − ACDC −0.0002), not its larger margins at blocks 10-20 and 95-99%,',
  'which this table does not run. Why the two tie here, by the same measure as on the teacher: a block row of',
  "`dense_1` is one feature's embedding, and ACDC (masking, ten cycles) reaches about as many of the 39 features as",
  'SA++ (35, 33, 35 against 35, 36, 36), while magnitude reaches 24, 25 and 21 and trails by 0.004. With 195 kept',
  'blocks over 39 rows, coverage is near saturation for both, as at B = 4, s = 0.75 on the teacher.',
  '',
  'The first CTR design trained 20 passes over 50k examples, which the models memorised: on seed 1 (the two runs it',
  'finished) dense had test log-loss 1.28 at train loss 0.04 and SA++ 0.63, both worse than the base rate (0.56). A sparse first',
  'layer memorises less, so that table would have shown SA++ far ahead of dense for the wrong reason; this one draws',
  'a fresh example for every step.',
  '',
];

/** What the tables show and why, written from the runs (kept with the script that makes them). */
const FINDINGS: string[] = [
  '## What the runs show, and where SA++ does not come out ahead',
  '',
  '**Teacher grid.** SA++ has the best mean accuracy in all 9 cells. Its paired lead over ACDC excludes 0 in 8 of 9',
  'cells and over magnitude in 7 of 9. Over ACDC it grows with sparsity at B = 4 (+2.0, +5.3, +9.1 pp) and at B = 8 up',
  "to s = 0.9 (+6.2, +13.0, +7.6), as in the paper's Table 1, but shrinks at B = 16 (+17.9, +10.6, +2.4), where only",
  "8, 3 and 2 blocks are kept. The sizes are larger than ImageNet's (+1.8 pp at 8×8, 90%) and close to the NumPy",
  'prototype (spec §6.4: +8.0 pp at B = 8, s = 0.9). The cells where the interval includes 0:',
  '',
  '- **B = 4, s = 0.75 against magnitude (+2.5 [−0.2, +5.2]).** 128 of 512 blocks are kept, and all runs but one reach',
  '  15-16 of the 16 input row groups: the one thing that separates the methods elsewhere (below) is saturated. Four',
  '  seeds differ by +0.5 to +2.3 pp; in seed 4 magnitude reaches only 13 row groups and loses 6.1 pp, which widens the',
  '  interval. The paper too finds the methods close at low sparsity (+0.03 pp at 8×8, 70%).',
  '- **B = 16, s = 0.95 (+2.4 [−1.6, +6.3] over ACDC, +2.3 [−1.6, +6.2] over magnitude).** The student keeps 2 of 32',
  '  blocks (512 of 8192 weights; the teacher planted 8), and in all 15 runs both kept blocks are planted ones',
  '  (precision 1.00). SA++ puts its two in two input row groups in every seed, the baselines in one; that gains +2.3,',
  '  +7.4 and +3.0 pp in seeds 1, 3, 5 and nothing in seeds 2 and 4 (−0.6, −0.2), where every method stays at 40-45%:',
  '  two blocks bound what any student can learn, and five seeds do not resolve a gain that only some teachers allow.',
  '',
  '**Why ACDC and magnitude trail, checked rather than assumed.** Two explanations were tested and do not hold: ACDC',
  'masking its pruned blocks (as on Criteo) instead of zeroing them changes nothing (−0.0 pp), and magnitude pruned at',
  '15% instead of 70%, so that it trains its sparse model as long as SA++ trains its final support, gains +1.2 pp',
  '[−2.2, +4.5]. What does explain the accuracies is how many input row groups the kept blocks reach: within a seed,',
  'accuracy correlates with it at r = 0.64-0.97 in every cell, against −0.07 to 0.80 for support precision (table',
  'above). Magnitude and ACDC rank blocks by norm, and on the dense student before the prune the block norms are mostly a',
  'property of the row: the row groups explain 25%, 54% and 72% of the variance of the log norms at B = 4, 8 and 16,',
  "the column groups 3-4%, and a row's norm follows how many blocks the teacher planted in it (r = 0.83-0.95). So the",
  'top-k by norm takes many blocks from the few richest input groups and drops whole groups of inputs that still carry',
  'signal: at B = 8, s = 0.9 magnitude and ACDC reach 3.8 of 8 row groups, SA++ 7.4, and a random mask 6.8. That is',
  'why a random mask has a higher mean than both baselines at s = 0.75 and 0.9 (its lead is outside the 95% interval',
  'only over magnitude at 0.75), while SA++ beats it in every cell. SA++ ranks by logits trained through the loss with',
  "the other blocks in place, so a block whose row is already served gains little; the paper's reading of sequential",
  'attention as a marginal-gain (OMP-like)',
  'selection predicts exactly this spreading, though that link is not tested here. Without its gradual sparsification',
  'SA++ reaches 5.4 row groups and loses 6.1 pp [−8.8, −3.3] (the paper: −1.41 pp at 8×8, 90%; the prototype −3.9).',
  '',
  '**Support precision separates little.** At s ≥ 0.9, matching lifts chance to 0.83-0.94 and every method reaches',
  '0.88-1.00; SA++ − ACDC excludes 0 only at B = 4 (s = 0.75, 0.9), B = 8 (s = 0.75) and B = 16',
  '(s = 0.75). Which input groups the kept blocks serve matters far more than whether each one is planted.',
  '',
  '**c and weight decay.** c = 1, 2 and 8 lie within 0.3 pp of c = 4 at B = 8, s = 0.9, no interval excluding 0 (c = 1',
  'has the best mean by 0.1 pp), as Table 4 finds c unimportant. Coupled ℓ2 at 1e-3 helps SA++ on the teacher (+2.3 and',
  '+3.2 pp at s = 0.75 and 0.9, unresolved at 0.95), and decoupled decay at any λ up to 0.1 does nothing here.',
  '',
  '**Fashion-MNIST.** SA++ leads ACDC by +0.88 pp [+0.6, +1.1] and magnitude by +0.95, its sparsification phase is worth',
  '+0.31 pp, and at 90% block sparsity it matches the dense model (+0.26 [−0.57, +1.10]). Where the defaults do not',
  "come out ahead: the trainer's default weight decay (coupled ℓ2, 1e-3), chosen on the teacher grid, costs SA++ 1.0 pp",
  'here (88.5 with decoupled decay at the same λ, which is in effect none, as in v1 where SA++ had 88.6). Every method',
  'ran with the same default, so the comparison stands, but SA++ is about 1 pp below what it reaches without decay (the',
  'baselines were not rerun without it). Coupled 1e-4 did as well as 1e-3 on the teacher at s = 0.75 and 0.9 and may suit both',
  'tasks; it is not measured on Fashion-MNIST.',
  '',
  ...CTR_FINDINGS,
];

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
