// The sweep panel in headless Chromium under the webview CSP, fed the summary of a recorded 18-run
// sweep (test/fixtures/webview/sweep.json, made by `scripts/webviewFixtures.ts --sweep`): points
// and error bars where the values put them, the Pareto front ringed, the dense baseline, the cell
// table, live updates, the metric picker kept across a reload, CSV and PNG, theme. Needs
// `npm run build` first.
import type { SweepMessage, WebviewToHost } from '@protocol';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
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

type ExportCsv = Extract<WebviewToHost, { type: 'exportCsv' }>;
type ExportPng = Extract<WebviewToHost, { type: 'exportPng' }>;

const shots = join(ROOT, '.test-output', 'webview');
const dark = THEMES['vscode-dark'];
const message = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/sweep.json'), 'utf8')) as SweepMessage;
const isReady = (m: WebviewToHost): m is { type: 'ready' } => m.type === 'ready';
const isCsv = (m: WebviewToHost): m is ExportCsv => m.type === 'exportCsv';
const isPng = (m: WebviewToHost): m is ExportPng => m.type === 'exportPng';

/** The sweep chart's pixels and the mapping from (sparsity, metric) to canvas pixels. */
async function chartGeometry(panel: PanelPage) {
  const p = await canvasPixels(panel.page, '#chart-sweep');
  const [left, top, right, bottom] = p.area!.split(',').map(Number) as [number, number, number, number];
  const [ymin, ymax] = (await panel.page.$eval('#chart-sweep', (c) => (c as HTMLCanvasElement).dataset.yrange!))
    .split(',')
    .map(Number) as [number, number];
  return {
    p,
    x: (sparsity: number) => left + (right - left) * sparsity,
    y: (value: number) => bottom - ((bottom - top) * (value - ymin)) / (ymax - ymin),
    left,
    right,
  };
}

/** Whether `color` appears within `radius` pixels of (x, y). */
function near(p: Awaited<ReturnType<typeof canvasPixels>>, x: number, y: number, color: string, radius = 3): boolean {
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++) if (distance(pixel(p, x + dx, y + dy), hex(color)) <= 40) return true;
  return false;
}

const points = (panel: PanelPage) =>
  panel.page.$eval('#chart-sweep', (c) => Number((c as HTMLCanvasElement).dataset.points));

describe('sweep panel in Chromium under the webview CSP', () => {
  let browser: Browser;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('draws each cell at its mean with its error bar, the front ringed, the baseline dashed; the table lists every cell', async () => {
    const panel = await openPanel(browser, 'sweep');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    await panel.send(message);
    await page.waitForFunction(() => document.querySelectorAll('#cells tbody tr').length === 7);
    assert.equal(await points(panel), 7, 'six cells and the baseline');

    const g = await chartGeometry(panel);
    const colors = { sapp: dark['--vscode-charts-blue'], magnitude: dark['--vscode-charts-orange'] };
    const cells = message.summary.cells;
    for (const cell of cells.filter((c) => !c.dense)) {
      const color = colors[cell.method as keyof typeof colors];
      const { mean, sd } = cell.metrics.accuracy!;
      const x = g.x(cell.sparsity);
      assert.ok(near(g.p, x, g.y(mean), color), `${cell.method}@${cell.sparsity}: point at ${mean}`);
      if (sd !== null && g.y(mean - sd) - g.y(mean + sd) > 12)
        assert.ok(near(g.p, x, g.y(mean + sd), color, 2), `${cell.method}@${cell.sparsity}: error bar to mean + sd`);
      if (cell.pareto.includes('accuracy'))
        assert.ok(near(g.p, x + 9, g.y(mean), dark['--vscode-editor-foreground'], 2), 'Pareto ring');
    }
    // The dense baseline across the plot at its mean (dashed: most of the columns). A 1 px line at a
    // fractional y is spread over two pixel rows, each at least half way from the background to it.
    const dense = cells.find((c) => c.dense)!.metrics.accuracy!.mean;
    const [fg, bg] = [hex(dark['--vscode-charts-foreground']), hex(dark['--vscode-editor-background'])];
    const share = (rgb: number[]) => rgb.reduce((a, v, c) => a + (v - bg[c]!) / (fg[c]! - bg[c]!), 0) / 3;
    let hits = 0;
    for (let k = 1; k < 20; k++) {
      const x = Math.round(g.left + ((g.right - g.left) * k) / 20);
      const y = g.y(dense);
      if ([Math.floor(y) - 1, Math.floor(y), Math.ceil(y)].some((row) => share(pixel(g.p, x, row)) >= 0.45)) hits++;
    }
    assert.ok(hits >= 10, `baseline in ${hits}/19 columns`);

    // The legend (HTML, as on the other panels): one toggle per line; switching magnitude off hides it.
    assert.deepEqual(await page.locator('.legend-item').allTextContents(), [
      'sapp',
      'magnitude',
      'Pareto front',
      'dense baseline (none)',
    ]);
    const magnitude = cells.find((c) => c.method === 'magnitude' && !c.pareto.includes('accuracy'))!;
    await page.locator('.legend-item', { hasText: 'magnitude' }).click();
    const hidden = await chartGeometry(panel);
    assert.ok(
      !near(hidden.p, hidden.x(magnitude.sparsity), hidden.y(magnitude.metrics.accuracy!.mean), colors.magnitude, 1),
      'magnitude hidden',
    );
    await page.locator('.legend-item', { hasText: 'magnitude' }).click();

    const header = await page.locator('#cells thead th').allTextContents();
    assert.deepEqual(header, [
      'pruning.method',
      'pruning.sparsity',
      'n',
      'accuracy (mean ± sd)',
      'global sparsity',
      'failed',
    ]);
    const rows = await page.locator('#cells tbody tr').allTextContents();
    assert.ok(rows[0]!.startsWith('sapp0.52/2'), rows[0]);
    const front = cells.filter((c) => c.pareto.includes('accuracy')).length;
    assert.equal(await page.locator('#cells tbody tr.pareto').count(), front);
    assert.match((await page.locator('.status').textContent())!, /^18 runs \(.*\) on the local executor: 18 completed/);
    await page.screenshot({ path: join(shots, 'sweep-dark.png'), fullPage: true });

    // Exports: every cell as CSV, the chart as PNG.
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await panel.waitForPosted(isCsv);
    assert.equal(csv.name, 'sweep-fixture-sweep-cells.csv');
    assert.equal(csv.csv.trim().split('\n').length, 8);
    await page.getByRole('button', { name: 'Save PNG' }).click();
    const png = await panel.waitForPosted(isPng);
    assert.match(png.dataUrl, /^data:image\/png;base64,iVBOR/);
    assert.equal(png.name, 'sweep-fixture-sweep-accuracy.png');
    await assertClean(panel);
    await page.close();
  });

  it('follows a live sweep, keeps the picked metric across a reload, and follows the theme', async () => {
    const panel = await openPanel(browser, 'sweep');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    // Midway: only the sapp cells have finished.
    const live: SweepMessage = {
      type: 'sweep',
      summary: {
        ...message.summary,
        status: 'running',
        cells: message.summary.cells.map((c) => (c.method === 'sapp' ? c : { ...c, metrics: {}, pareto: [] })),
        counts: { pending: 8, running: 4, completed: 6, failed: 0, cancelled: 0 },
      },
    };
    await panel.send(live);
    await page.waitForFunction(() => document.querySelector('#chart-sweep')?.getAttribute('data-points') === '3');
    assert.match((await page.locator('.status').textContent())!, /6 completed, 4 running, 8 not started/);
    await panel.send(message);
    await page.waitForFunction(() => document.querySelector('#chart-sweep')?.getAttribute('data-points') === '7');

    await page.locator('#metric').selectOption('support_precision');
    await page.waitForFunction(() =>
      document.querySelector('.card h2')?.textContent?.startsWith('Support precision@k'),
    );
    assert.equal(await points(panel), 6, 'no support precision for the dense runs');
    // A reload (VS Code rebuilds a hidden webview): the host sends the sweep again, the pick stays.
    await page.reload();
    await panel.waitForPosted(isReady, 0);
    await panel.send(message);
    await page.waitForFunction(() => document.querySelectorAll('#cells tbody tr').length === 7);
    assert.equal(await page.locator('#metric').inputValue(), 'support_precision');
    assert.match((await page.locator('#cells thead th').nth(3).textContent())!, /^support_precision/);

    await page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
    await page.waitForFunction(() => {
      const c = document.querySelector<HTMLCanvasElement>('#chart-sweep')!;
      return c.getContext('2d')!.getImageData(1, 1, 1, 1).data[0] === 255;
    });
    await page.screenshot({ path: join(shots, 'sweep-light.png'), fullPage: true });
    await assertClean(panel);
    await page.close();
  });
});
