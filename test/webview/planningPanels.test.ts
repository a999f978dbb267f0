// The schedule and compare panels in headless Chromium under the webview CSP. The schedule comes
// from the same pure function the language server answers with (on the teacher sample); the
// comparison is recorded from two real 300-step runs (test/fixtures/webview/compare.json, made by
// `scripts/webviewFixtures.ts --compare`). Needs `npm run build` first.
import type { HostToWebview, SchedulePreviewResult, WebviewToHost } from '@protocol';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { schedulePreview } from '../../server/src/experiment/schedulePreview';
import { validateExperiment } from '../../server/src/experiment/validate';
import { hostFor, SAMPLES_DIR } from '../helpers/experimentFixtures';
import {
  assertClean,
  canvasPixels,
  distance,
  hex,
  launch,
  openPanel,
  pixel,
  ROOT,
  THEMES,
  type PanelPage,
} from '../helpers/webviewPage';

type Compare = Extract<HostToWebview, { type: 'compare' }>;
type ExportCsv = Extract<WebviewToHost, { type: 'exportCsv' }>;

const shots = join(ROOT, '.test-output', 'webview');
const dark = THEMES['vscode-dark'];
const isReady = (m: WebviewToHost): m is { type: 'ready' } => m.type === 'ready';
const isCsv = (m: WebviewToHost): m is ExportCsv => m.type === 'exportCsv';

function previewOf(file: string): SchedulePreviewResult {
  return schedulePreview(validateExperiment(readFileSync(file, 'utf8'), hostFor(file)));
}

/** The plot area of a chart canvas, in canvas pixels. */
async function plotArea(panel: PanelPage, id: string) {
  const p = await canvasPixels(panel.page, `#chart-${id}`);
  assert.ok(p.area, `${id}: chart area recorded`);
  const [left, top, right, bottom] = p.area.split(',').map(Number) as [number, number, number, number];
  return { p, left, top, right, bottom };
}

/** Whether `color` appears within `radius` pixels of (x, y). */
function near(p: Awaited<ReturnType<typeof canvasPixels>>, x: number, y: number, color: string, radius = 3): boolean {
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++) if (distance(pixel(p, x + dx, y + dy), hex(color)) <= 40) return true;
  return false;
}

describe('schedule and compare panels in Chromium under the webview CSP', () => {
  let browser: Browser;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('schedule panel: the target curve where the schedule puts it, phase bands, tables, errors kept beside the last curve, CSV', async () => {
    const preview = previewOf(join(SAMPLES_DIR, 'teacher-sapp.prune.yaml'));
    const panel = await openPanel(browser, 'schedule');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    await panel.send({ type: 'schedule', preview });
    await page.waitForFunction(() => document.querySelector('.status')?.textContent?.includes('steps'));
    const status = (await page.locator('.status').first().textContent())!;
    assert.ok(status.includes(`${preview.totalSteps} steps`), status);
    const dense1 = preview.layers.find((l) => l.name === 'dense_1')!;
    assert.ok(dense1.pruned && dense1.keptBlocks > 0 && dense1.keptBlocks < dense1.blocks);

    // The blue target curve passes through (step, target) at the start, in the sparsify ramp and at the end.
    const { p, left, top, right, bottom } = await plotArea(panel, 'target');
    const xOf = (step: number) => left + ((right - left) * step) / preview.totalSteps;
    const yOf = (fraction: number) => bottom - (bottom - top) * fraction;
    const sparsify = preview.phases.find((ph) => ph.kind === 'sparsify')!;
    const mid = Math.round((sparsify.startStep + sparsify.endStep) / 2);
    const i = preview.steps.findIndex((s) => s >= mid);
    for (const [step, value] of [
      [preview.steps[1]!, preview.targetSparsity[1]!],
      [preview.steps[i]!, preview.targetSparsity[i]!],
      [preview.totalSteps - 20, preview.targetSparsity.at(-1)!],
    ] as const)
      assert.ok(near(p, xOf(step), yOf(value), dark['--vscode-charts-blue']), `target curve at step ${step}, ${value}`);
    // and not at the opposite height.
    assert.ok(!near(p, xOf(preview.totalSteps - 20), yOf(0.1), dark['--vscode-charts-blue']));

    // Phase bands: the sparsify phase is shaded, the dense start is plain background.
    const bg = hex(dark['--vscode-editor-background']);
    const dense = preview.phases[0]!;
    assert.equal(dense.kind, 'dense');
    assert.ok(distance(pixel(p, xOf((dense.startStep + dense.endStep) / 2), top + 4), bg) <= 3, 'dense phase clear');
    assert.ok(distance(pixel(p, xOf(mid), top + 4), bg) > 3, 'sparsify phase shaded');

    // Tables: one row per phase with its steps, one per layer with its kept blocks.
    const phaseRows = await page.locator('#phases tbody tr').allTextContents();
    assert.equal(phaseRows.length, preview.phases.length);
    assert.ok(phaseRows[0]!.includes(`${dense.startStep}–${dense.endStep - 1}`), phaseRows[0]);
    const layerRows = await page.locator('#layers tbody tr').allTextContents();
    assert.ok(
      layerRows.some((r) => r.startsWith('dense_1') && r.includes(String(dense1.keptBlocks))),
      String(layerRows),
    );
    await page.screenshot({ path: join(shots, 'schedule-dark.png'), fullPage: true });

    // An error while editing: shown, and the last schedule stays drawn.
    await panel.send({ type: 'schedule', error: 'teacher.prune.yaml:22:13: sparsity must be below 1' });
    await page.locator('.problem').waitFor({ state: 'visible' });
    assert.match((await page.locator('.problem').textContent())!, /:22:13: sparsity must be below 1/);
    assert.equal(await page.locator('#phases tbody tr').count(), preview.phases.length);
    const still = await plotArea(panel, 'target');
    assert.ok(
      near(still.p, xOf(preview.totalSteps - 20), yOf(preview.targetSparsity.at(-1)!), dark['--vscode-charts-blue']),
    );

    // The file fixed with a different schedule: the error goes, the curve moves.
    const edited = { ...preview, targetSparsity: preview.targetSparsity.map((v) => v / 2) };
    await panel.send({ type: 'schedule', preview: edited });
    await page.locator('.problem').waitFor({ state: 'hidden' });
    const moved = await plotArea(panel, 'target');
    assert.ok(
      near(moved.p, xOf(preview.totalSteps - 20), yOf(edited.targetSparsity.at(-1)!), dark['--vscode-charts-blue']),
    );

    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await panel.waitForPosted(isCsv);
    const lines = csv.csv.trim().split('\n');
    assert.equal(lines[0], 'step,phase,target_sparsity,learning_rate');
    assert.equal(lines.length, preview.steps.length + 1);
    const lastRow = lines.at(-1)!.split(',');
    assert.equal(Number(lastRow[0]), preview.totalSteps - 1);
    assert.ok(Math.abs(Number(lastRow[2]) - edited.targetSparsity.at(-1)!) < 1e-12);
    assert.match(csv.name, /^teacher-sapp-75-schedule\.csv$/);
    await assertClean(panel);
    await page.close();
  });

  it('compare panel: overlaid curves per run, the best result marked, config differences, CSV, theme', async () => {
    const message = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/compare.json'), 'utf8')) as Compare;
    assert.equal(message.runs.length, 2);
    const panel = await openPanel(browser, 'compare');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    await panel.send(message);
    await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 2);

    // Each run's loss curve in its own colour, across most of the plot width.
    const { p, left, top, right, bottom } = await plotArea(panel, 'loss');
    for (const color of [dark['--vscode-charts-blue'], dark['--vscode-charts-orange']]) {
      let columns = 0;
      for (let k = 0; k < 30; k++) {
        const x = left + 3 + ((right - left - 6) * k) / 29;
        for (let y = top; y <= bottom; y++)
          if (distance(pixel(p, x, y), hex(color)) <= 40) {
            columns++;
            break;
          }
      }
      assert.ok(columns >= 20, `${color}: loss curve in ${columns}/30 columns`);
    }
    // Sparsity: each run's curve where it departs most from the other run's (the runs differ in schedule).
    const s = await plotArea(panel, 'sparsity');
    const maxStep = Math.max(...message.runs.map((r) => r.info.totalSteps));
    const sparsityAt = (run: Compare['runs'][number]) =>
      new Map(run.events.flatMap((e) => (e.type === 'step' ? [[e.step, e.globalSparsity] as const] : [])));
    const [a, b] = message.runs.map(sparsityAt) as [Map<number, number>, Map<number, number>];
    for (const [k, mine, other] of [
      [0, a, b],
      [1, b, a],
    ] as const) {
      const shared = [...mine.keys()].filter((step) => other.has(step));
      const step = shared.reduce((best, x) =>
        Math.abs(mine.get(x)! - other.get(x)!) > Math.abs(mine.get(best)! - other.get(best)!) ? x : best,
      );
      assert.ok(Math.abs(mine.get(step)! - other.get(step)!) > 0.2, 'the fixture runs differ somewhere');
      const x = s.left + ((s.right - s.left) * step) / maxStep;
      const y = s.bottom - (s.bottom - s.top) * mine.get(step)!;
      const color = k === 0 ? dark['--vscode-charts-blue'] : dark['--vscode-charts-orange'];
      assert.ok(near(s.p, x, y, color, 4), `${message.runs[k]!.info.id} at step ${step}: ${mine.get(step)}`);
    }

    // The table: the fixture's rows, the best accuracy and support precision marked on the right runs.
    const { columns, rows } = message.table;
    const header = await page.locator('#results thead th').allTextContents();
    assert.deepEqual(header, columns);
    const best = async (column: string) => {
      const c = columns.indexOf(column);
      const marked: number[] = [];
      for (let r = 0; r < rows.length; r++) {
        const cls = await page
          .locator(`#results tbody tr:nth-child(${r + 1}) td:nth-child(${c + 1})`)
          .getAttribute('class');
        if (cls === 'best') marked.push(r);
      }
      return marked;
    };
    const value = (r: number, column: string) => Number.parseFloat(rows[r]![columns.indexOf(column)]!);
    for (const column of ['accuracy', 'support_precision']) {
      const expected = value(0, column) > value(1, column) ? 0 : 1;
      assert.notEqual(value(0, column), value(1, column), `${column} differs in the fixture`);
      assert.deepEqual(await best(column), [expected], column);
    }
    assert.deepEqual(await best('global_sparsity'), [], 'sparsity is not a metric to win');

    // Config differences: the method, each run's value in its column.
    const diffRows = await page.locator('#differences tbody tr').allTextContents();
    assert.equal(diffRows.length, message.table.differences.length);
    assert.ok(diffRows.some((r) => r.includes('pruning.method') && r.includes('"sapp"') && r.includes('"magnitude"')));
    await page.screenshot({ path: join(shots, 'compare-dark.png'), fullPage: true });

    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await panel.waitForPosted(isCsv);
    const lines = csv.csv.trim().split('\n');
    assert.equal(lines[0], columns.join(','));
    assert.equal(lines.length, rows.length + 1);
    assert.equal(lines[1]!.split(',')[0], rows[0]![0]);

    // Theme switch: the background follows.
    await page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
    await page.waitForFunction(() => {
      const c = document.querySelector<HTMLCanvasElement>('#chart-loss')!;
      return c.getContext('2d')!.getImageData(1, 1, 1, 1).data[0] === 255;
    });
    await page.screenshot({ path: join(shots, 'compare-light.png'), fullPage: true });
    await assertClean(panel);
    await page.close();
  });
});
