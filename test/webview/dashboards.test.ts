// The run panel in headless Chromium under the webview's strict CSP, fed the messages of a real
// 300-step teacher-sapp run (test/fixtures/webview/run.json, see scripts/webviewFixtures.ts): the
// summary strip, the curves with their legends, the heatmap's pixels, and each of the light, dark
// and high-contrast themes checked by pixels of the sparsity chart and the heatmap. Needs
// `npm run build` first (the `webview` layer of `npm test` builds).
import type { HostToWebview, WebviewToHost } from '@protocol';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { blockColor, formatScore, ramp } from '../../webview/src/heatmapColors';
import { syntheticSnapshot, withSecondLayer } from '../helpers/snapshotMessages';
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
  type Rgb,
  type ThemeClass,
} from '../helpers/webviewPage';

type Snapshot = Extract<HostToWebview, { type: 'snapshot' }>;
type Pixels = Awaited<ReturnType<typeof canvasPixels>>;

const shots = join(ROOT, '.test-output', 'webview');
const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webview/run.json'), 'utf8')) as HostToWebview[];
const runMessage = fixture.find((m) => m.type === 'run')!;
const run = runMessage.type === 'run' ? runMessage : undefined;
const snapshots = fixture.filter((m): m is Snapshot => m.type === 'snapshot');
const snapshotAt = (step: number) => snapshots.find((s) => s.step === step)!;

const isRequest = (m: WebviewToHost): m is Extract<WebviewToHost, { type: 'requestSnapshot' }> =>
  m.type === 'requestSnapshot';
const isReady = (m: WebviewToHost): m is { type: 'ready' } => m.type === 'ready';

/** A layer of a snapshot message with its scores decoded, and the range its colours span by default. */
function decode(snapshot: Snapshot, name: string) {
  const layer = snapshot.layers.find((l) => l.name === name)!;
  const bytes = Buffer.from(layer.scores, 'base64');
  const scores = Array.from({ length: layer.gridRows * layer.gridCols }, (_, i) => bytes.readFloatLE(i * 4));
  const mask = Array.from(Buffer.from(layer.mask, 'base64'));
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  const run = snapshot.runRanges[name]!;
  return { ...layer, scores, mask, min, max, runMin: Math.min(run.min, min), runMax: Math.max(run.max, max) };
}

/** `color` mixed `alpha` of the way towards `toward`: a hatch stripe over a pruned block. */
const mix = (color: Rgb, toward: Rgb, alpha: number): Rgb =>
  color.map((c, i) => Math.round(c + (toward[i]! - c) * alpha)) as Rgb;

/** The pixels of one heatmap cell, counted by whether they are `plain` or a hatch stripe over it. */
function cellPixels(p: Pixels, cell: number, row: number, col: number, plain: Rgb, stripe: Rgb) {
  let plainCount = 0;
  let stripeCount = 0;
  // Inset by one pixel: a neighbour's stripe may touch the edge.
  for (let y = row * cell + 1; y < (row + 1) * cell - 1; y++)
    for (let x = col * cell + 1; x < (col + 1) * cell - 1; x++) {
      const px = pixel(p, x, y);
      if (distance(px, plain) <= 2) plainCount++;
      else if (distance(px, stripe) <= 4) stripeCount++;
    }
  return { plainCount, stripeCount, total: (cell - 2) * (cell - 2) };
}

/** Counts the columns of a chart's plot area in which `color` appears. */
function columnsWith(p: Pixels, color: string, columns = 40): number {
  const [left, top, right, bottom] = p.area!.split(',').map(Number) as [number, number, number, number];
  let hits = 0;
  for (let k = 0; k < columns; k++) {
    const x = left + 3 + ((right - left - 6) * k) / (columns - 1);
    for (let y = top; y <= Math.min(p.height - 1, bottom + 2); y++)
      if (distance(pixel(p, x, y), hex(color)) <= 40) {
        hits++;
        break;
      }
  }
  return hits;
}

async function switchTheme(page: Page, to: ThemeClass): Promise<void> {
  await page.evaluate((cls) => {
    document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast');
    document.body.classList.add(cls);
  }, to);
}

/** The run panel at `width` css pixels (620: beside the editor in a 1280 px window), given the fixture run. */
async function openRun(browser: Browser, width = 620): Promise<PanelPage> {
  const panel = await openPanel(browser, 'run');
  await panel.page.setViewportSize({ width, height: 860 });
  await panel.waitForPosted(isReady);
  return panel;
}

/** Shows the block-importance tab and the snapshot it asks for (the last one first). */
async function showBlocks(panel: PanelPage, answer: (step: number) => Snapshot = snapshotAt): Promise<number> {
  const { page } = panel;
  await page.click('#tab-blocks');
  const request = await panel.waitForPosted(isRequest);
  await panel.send(answer(request.step));
  await page.waitForFunction(
    (s) =>
      document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.step === String(s) &&
      document.querySelector<HTMLCanvasElement>('.heatmap')!.width > 0,
    request.step,
  );
  return request.step;
}

describe('run panel in Chromium under the webview CSP', () => {
  let browser: Browser;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('the CSP is in force: an inline style is reported as a violation', async () => {
    const panel = await openPanel(browser, 'run');
    await panel.page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red; }';
      document.head.append(style);
    });
    await panel.page.waitForFunction(() => (window as unknown as { __violations: string[] }).__violations.length > 0);
    assert.match((await panel.violations())[0]!, /style-src/);
    await panel.page.close();
  });

  it('summary strip and curves beside the editor: the numbers, the target apart from the actual, legends that wrap, no sideways scrolling', async () => {
    const panel = await openRun(browser);
    const { page } = panel;
    assert.ok(
      await page.$eval('link[rel="stylesheet"][data-dashboard]', (l: HTMLLinkElement) => l.href.endsWith('run.css')),
    );
    await panel.send(runMessage);
    await page.waitForFunction(() => document.querySelector('.fact-status')?.textContent?.includes('completed'));
    const facts = await page.$$eval('.summary-strip .fact', (els) =>
      els.map((e) => [
        (e as HTMLElement).dataset.key,
        e.querySelector('.fact-value')?.textContent,
        e.querySelector('.fact-detail')?.textContent ?? '',
      ]),
    );
    const info = run!.info;
    const threadsText = (n: unknown) => (typeof n === 'number' ? `${n} thread${n === 1 ? '' : 's'}` : '');
    const best = run!.events
      .flatMap((e) => (e.type === 'eval' ? [e] : []))
      .reduce((a, b) => (b.metrics.accuracy! > a.metrics.accuracy! ? b : a));
    const m = info.final!.metrics;
    assert.deepEqual(facts, [
      ['status', 'completed', ''],
      ['step', '300/300', ''],
      [
        'metric',
        `${(100 * m.accuracy!).toFixed(1)}%`,
        `best ${(100 * best.metrics.accuracy!).toFixed(1)}% at step ${best.step}`,
      ],
      ['support', m.support_precision!.toFixed(3), `chance ${m.support_precision_chance!.toFixed(3)}`],
      ['sparsity', `${(100 * info.final!.sparsity.global).toFixed(1)}%`, 'target 75% of blocks'],
      ['backend', info.backend.name, threadsText(info.backend.details['threads'])],
    ]);
    assert.equal(await page.locator('h1').textContent(), 'teacher-sapp-75 · sapp · s1');
    assert.equal(await page.locator('h1').getAttribute('title'), info.id);
    assert.equal(await page.locator('.chart-box canvas').count(), 4);

    // The target is dashed in its own colour on top; the layer and global lines show beside it.
    const dark = THEMES['vscode-dark'];
    const s = await canvasPixels(page, '#chart-sparsity');
    for (const [what, color] of [
      ['target', dark['--vscode-charts-foreground']],
      ['layer dense_1', dark['--vscode-charts-orange']],
      ['global', dark['--vscode-charts-blue']],
    ] as const)
      assert.ok(columnsWith(s, color) >= 32, `${what}: its colour in ${columnsWith(s, color)}/40 columns`);
    for (const [id, color] of [
      ['loss', dark['--vscode-charts-blue']],
      ['time', dark['--vscode-charts-orange']],
    ] as const) {
      const p = await canvasPixels(page, `#chart-${id}`);
      assert.ok(columnsWith(p, color) >= 32, `${id}: curve colour in ${columnsWith(p, color)}/40 columns`);
    }
    // The evaluation loss is on by default (red points on the loss chart).
    const loss = await canvasPixels(page, '#chart-loss');
    let red = 0;
    for (let i = 0; i < loss.data.length; i += 4)
      if (distance(loss.data.subarray(i, i + 3), hex(dark['--vscode-charts-red'])) <= 30) red++;
    assert.ok(red > 20, `evaluation loss points: ${red} red pixels`);

    // Legends: one per chart, each with the phase bands explained, swatches drawn like the lines.
    const legends = await page.$$eval('.legend-list', (lists) =>
      lists.map((l) => Array.from(l.querySelectorAll('.legend-item'), (i) => i.textContent)),
    );
    assert.deepEqual(legends[0], [
      'target',
      'layer dense_1 (blocks)',
      'clipped dense_1',
      'global (all kernels)',
      'sparsify phase',
      'sparse phase',
      'dense phase',
    ]);
    for (const legend of legends)
      assert.ok(legend.includes('sparsify phase') && legend.includes('sparse phase'), String(legend));
    const targetSwatch = await page.$eval('.legend-item[data-label="target"] canvas', (c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
      return Array.from(d);
    });
    const onDash = [];
    for (let x = 0; x < targetSwatch.length / 4; x++)
      onDash.push(
        distance(targetSwatch.slice(4 * x, 4 * x + 3), hex(dark['--vscode-charts-foreground'])) <= 40 &&
          targetSwatch[4 * x + 3]! > 200,
      );
    assert.ok(
      onDash.includes(true) && onDash.slice(2, -2).includes(false),
      'the target swatch is dashed, in the target colour',
    );

    // Beside the editor: no sideways scrolling, legends inside their cards, the y titles inside the canvas.
    const layout = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
      legends: Array.from(document.querySelectorAll('.legend-list'), (l) => l.scrollWidth <= l.clientWidth + 1),
    }));
    assert.ok(layout.scroll <= layout.client, `page ${layout.scroll} px wide in ${layout.client}`);
    assert.deepEqual(layout.legends, [true, true, true, true], 'legends wrap');
    await page.setViewportSize({ width: 380, height: 860 });
    await page.waitForTimeout(100);
    const narrow = await page.evaluate(
      () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
    );
    assert.ok(narrow, 'still no sideways scrolling at 380 px');
    await page.setViewportSize({ width: 620, height: 860 });

    // A legend entry switches its line off and on; it stays off across a live redraw.
    const before = columnsWith(await canvasPixels(page, '#chart-sparsity'), dark['--vscode-charts-blue']);
    await page.click('.legend-item[data-label="global (all kernels)"]');
    const hidden = columnsWith(await canvasPixels(page, '#chart-sparsity'), dark['--vscode-charts-blue']);
    assert.ok(hidden < before / 2, `global line hidden: ${hidden} columns (was ${before})`);
    assert.equal(await page.getAttribute('.legend-item[data-label="global (all kernels)"]', 'aria-pressed'), 'false');
    await panel.send(runMessage);
    await page.waitForTimeout(100);
    assert.ok(columnsWith(await canvasPixels(page, '#chart-sparsity'), dark['--vscode-charts-blue']) < before / 2);
    await page.click('.legend-item[data-label="global (all kernels)"]');

    // Exports: the step metrics as CSV, the sparsity chart as PNG.
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await panel.waitForPosted(
      (m): m is Extract<WebviewToHost, { type: 'exportCsv' }> => m.type === 'exportCsv',
    );
    const lines = csv.csv.trim().split('\n');
    assert.match(
      lines[0]!,
      /^step,phase,loss,learning_rate,target_sparsity,global_sparsity,block_sparsity_dense_1,clipped_fraction_dense_1,step_ms/,
    );
    assert.equal(lines.length, run!.events.filter((e) => e.type === 'step').length + 1);
    await page.getByRole('button', { name: 'Save PNG' }).click();
    const png = await panel.waitForPosted(
      (m): m is Extract<WebviewToHost, { type: 'exportPng' }> => m.type === 'exportPng',
    );
    assert.match(png.dataUrl, /^data:image\/png;base64,/);
    assert.match(png.name, /-sparsity\.png$/);
    await assertClean(panel);
    await page.close();
  });

  it('a live session: the strip follows its state, step and ETA as they come', async () => {
    const panel = await openRun(browser);
    const { page } = panel;
    const info = { ...run!.info, status: 'running' as const, step: 0, final: undefined, bestEvaluation: undefined };
    await panel.send({ type: 'run', info, events: [] });
    await panel.send({
      type: 'session',
      summary: {
        sessionId: 'session-1',
        experimentUri: 'file:///w/teacher.prune.yaml',
        runDir: '/w/runs/x',
        name: info.name,
        method: 'sapp',
        state: 'running',
        step: 0,
        totalSteps: 300,
        globalSparsity: 0,
        targetSparsity: 0,
        finalTargetSparsity: 0.75,
        backend: 'wasm',
        threads: 2,
        etaSeconds: 5.2,
      },
    });
    const steps = run!.events.filter((e) => e.type === 'step').slice(0, 5);
    await panel.send({ type: 'events', events: steps.map((e, i) => ({ ...e, step: 10 * i, stepMs: 20 })) });
    await page.waitForFunction(() => document.querySelector('.fact-step .fact-value')?.textContent === '41/300');
    assert.equal(await page.textContent('.fact-step .fact-detail'), 'ETA 5 s');
    assert.equal(await page.textContent('.fact-backend .fact-detail'), '2 threads');
    await assertClean(panel);
    await page.close();
  });

  it('heatmap: kept blocks in their colour on the run-wide scale, pruned ones hatched over theirs, axis titles, tooltip with ranges', async () => {
    const panel = await openRun(browser);
    const { page } = panel;
    await panel.send(runMessage);
    const last = snapshots.at(-1)!.step;
    assert.equal(await showBlocks(panel), last, 'asks for the latest snapshot');
    const layer = decode(snapshotAt(last), 'dense_1');
    const p = await canvasPixels(page, '.heatmap');
    const cell = Number(await page.getAttribute('.heatmap', 'data-cell'));
    assert.equal(p.width, cell * layer.gridCols, 'whole pixels per block');
    assert.ok(cell >= 20, `the 16x16 grid fills the panel: ${cell} px blocks`);
    const box = (await page.locator('.heatmap').boundingBox())!;
    assert.ok(box.width >= 400, `${box.width} px wide in a 620 px panel`);

    const bg = hex(THEMES['vscode-dark']['--vscode-editor-background']);
    const keptIndex = layer.mask.indexOf(1);
    const prunedIndex = layer.mask.indexOf(0);
    for (const i of [keptIndex, prunedIndex, layer.mask.lastIndexOf(1), layer.mask.lastIndexOf(0)]) {
      const colour = blockColor(layer.scores[i]!, layer.runMin, layer.runMax, true, bg);
      const counts = cellPixels(
        p,
        cell,
        Math.floor(i / layer.gridCols),
        i % layer.gridCols,
        colour,
        mix(colour, bg, 0.75),
      );
      if (layer.mask[i] === 1)
        assert.equal(counts.plainCount, counts.total, `kept block ${i}: plain ${String(colour)}`);
      else {
        assert.ok(
          counts.plainCount > counts.total * 0.2,
          `pruned block ${i} keeps its colour between stripes: ${counts.plainCount}/${counts.total}`,
        );
        assert.ok(
          counts.stripeCount > counts.total * 0.15,
          `pruned block ${i} is hatched: ${counts.stripeCount}/${counts.total}`,
        );
      }
    }
    assert.equal(await page.textContent('.axis-rows'), 'rows: inputs: 128 in 16 blocks of 8');
    assert.equal(await page.textContent('.axis-cols'), 'columns: outputs: 128 in 16 blocks of 8');
    assert.equal(await page.textContent('.legend-box .legend-label'), formatScore(layer.runMin));

    // Tooltip: the block, the kernel rows and columns it covers, its score, kept or pruned.
    const [r, c] = [Math.floor(prunedIndex / layer.gridCols), prunedIndex % layer.gridCols];
    await page.mouse.move(
      box.x + (c + 0.5) * (box.width / layer.gridCols),
      box.y + (r + 0.5) * (box.height / layer.gridRows),
    );
    const tip = page.locator('.tooltip');
    await tip.waitFor({ state: 'visible' });
    assert.equal(
      await tip.textContent(),
      `block (${r}, ${c}) · inputs ${8 * r}–${8 * r + 7} × outputs ${8 * c}–${8 * c + 7} · attention ${formatScore(layer.scores[prunedIndex]!)} · pruned`,
    );
    await page.screenshot({ path: join(shots, 'run-blocks-dark.png'), fullPage: true });

    // The step's own scale, when asked: the extremes of this step take the ends of the ramp.
    await page.selectOption('select[title="Colour scale"]', 'step');
    await page.waitForFunction(
      (min) => document.querySelector<HTMLCanvasElement>('.heatmap')!.dataset.min === String(min),
      layer.min,
    );
    const q = await canvasPixels(page, '.heatmap');
    const top = layer.scores.indexOf(layer.max);
    const expected = ramp(1);
    const topCounts = cellPixels(
      q,
      cell,
      Math.floor(top / layer.gridCols),
      top % layer.gridCols,
      expected,
      mix(expected, bg, 0.75),
    );
    assert.ok(topCounts.plainCount > 0, 'the highest block takes the top of the ramp');

    // Zoom: twice the blocks, scrolling inside the heatmap's frame, never the page.
    await page.selectOption('select[title="Zoom"]', '4');
    await page.waitForFunction(
      (c0) => Number(document.querySelector<HTMLCanvasElement>('.heatmap')!.dataset.cell) === 4 * c0,
      cell,
    );
    const scroll = await page.evaluate(() => {
      const s = document.querySelector('.heatmap-scroll')!;
      return {
        inner: s.scrollWidth > s.clientWidth,
        page: document.documentElement.scrollWidth <= document.documentElement.clientWidth,
      };
    });
    assert.deepEqual(scroll, { inner: true, page: true });
    await assertClean(panel);
    await page.close();
  });

  it('heatmap of a large grid: blocks too small to hatch are dimmed towards the background instead', async () => {
    const panel = await openRun(browser);
    const { page } = panel;
    const snapshotEvent = { ...run!.events.find((e) => e.type === 'snapshot')!, step: 10 };
    await panel.send({ ...runMessage, events: [...run!.events.filter((e) => e.type !== 'snapshot'), snapshotEvent] });
    const big = syntheticSnapshot(10, 300, 300, (i) => i % 2 === 1);
    await showBlocks(panel, () => big);
    const cell = Number(await page.getAttribute('.heatmap', 'data-cell'));
    assert.ok(cell < 5, `${cell} px blocks`);
    assert.equal(await page.getAttribute('.heatmap', 'data-hatched'), 'false');
    const p = await canvasPixels(page, '.heatmap');
    const bg = hex(THEMES['vscode-dark']['--vscode-editor-background']);
    const n = 300 * 300;
    for (const i of [0, 1, 45_000, 45_001]) {
      const at = pixel(p, (i % 300) * cell, Math.floor(i / 300) * cell);
      const want = blockColor(i, 0, n - 1, i % 2 === 0, bg);
      assert.ok(distance(at, want) <= 2, `block ${i}: ${String(at)} vs ${String(want)}`);
    }
    await assertClean(panel);
    await page.close();
  });

  for (const themeClass of Object.keys(THEMES) as ThemeClass[])
    it(`${themeClass}: the sparsity chart and the heatmap in the theme's colours`, async () => {
      const panel = await openRun(browser);
      const { page } = panel;
      await switchTheme(page, themeClass);
      await panel.send(runMessage);
      const theme = THEMES[themeClass];
      const bg = hex(theme['--vscode-editor-background']);
      await page.waitForFunction((want) => {
        const c = document.querySelector<HTMLCanvasElement>('#chart-sparsity')!;
        const d = c.getContext('2d')!.getImageData(1, 1, 1, 1).data;
        return d[0] === want[0] && d[1] === want[1] && d[2] === want[2];
      }, bg);
      const s = await canvasPixels(page, '#chart-sparsity');
      assert.deepEqual(pixel(s, 1, 1), bg, 'the chart paints the theme background');
      for (const [what, color] of [
        ['target', theme['--vscode-charts-foreground']],
        ['layer', theme['--vscode-charts-orange']],
        ['global', theme['--vscode-charts-blue']],
      ] as const)
        assert.ok(columnsWith(s, color) >= 32, `${themeClass} ${what}: ${columnsWith(s, color)}/40 columns`);
      // The sparsify bands shade the plot: the top row of the plot is not all background.
      const [left, top, right] = s.area!.split(',').map(Number) as [number, number, number, number];
      let shaded = 0;
      for (let x = left + 1; x < right; x++) if (distance(pixel(s, x, top + 4), bg) > 3) shaded++;
      assert.ok(shaded > (right - left) * 0.3, `phase bands shade ${shaded} px of the top row`);
      await page.screenshot({
        path: join(shots, `run-curves-${themeClass.replace('vscode-', '')}.png`),
        fullPage: true,
      });

      await showBlocks(panel);
      const layer = decode(snapshots.at(-1)!, 'dense_1');
      const p = await canvasPixels(page, '.heatmap');
      const cell = Number(await page.getAttribute('.heatmap', 'data-cell'));
      const kept = layer.mask.indexOf(1);
      const pruned = layer.mask.indexOf(0);
      const colourOf = (i: number) => blockColor(layer.scores[i]!, layer.runMin, layer.runMax, true, bg);
      const keptCounts = cellPixels(
        p,
        cell,
        Math.floor(kept / layer.gridCols),
        kept % layer.gridCols,
        colourOf(kept),
        bg,
      );
      assert.equal(keptCounts.plainCount, keptCounts.total, `${themeClass}: a kept block is its ramp colour`);
      const prunedCounts = cellPixels(
        p,
        cell,
        Math.floor(pruned / layer.gridCols),
        pruned % layer.gridCols,
        colourOf(pruned),
        mix(colourOf(pruned), bg, 0.75),
      );
      assert.ok(
        prunedCounts.stripeCount > prunedCounts.total * 0.15,
        `${themeClass}: the hatch is the theme background`,
      );
      assert.ok(prunedCounts.plainCount > prunedCounts.total * 0.2, `${themeClass}: the pruned block keeps its colour`);
      await page.screenshot({
        path: join(shots, `run-blocks-${themeClass.replace('vscode-', '')}.png`),
        fullPage: true,
      });
      await assertClean(panel);
      await page.close();
    });

  it('heatmap follows a live run when snapshots come faster than the answers', async () => {
    const panel = await openRun(browser);
    const { page } = panel;
    const template = snapshots.at(-1)!;
    const snapshotEvent = (step: number) => ({ ...run!.events.find((x) => x.type === 'snapshot')!, step });
    await panel.send({ ...runMessage, events: [snapshotEvent(100)] } as HostToWebview);
    await page.click('#tab-blocks');
    // A host that answers each request 150 ms late, while the run reports a snapshot every 40 ms.
    let answered = 0;
    let step = 100;
    for (let tick = 0; tick < 60; tick++) {
      step += 10;
      await panel.send({ type: 'events', events: [snapshotEvent(step)] });
      const posted = (await panel.posted()).filter(isRequest);
      for (const request of posted.slice(answered)) {
        answered++;
        setTimeout(() => void panel.send({ ...template, step: request.step }).catch(() => undefined), 150);
      }
      await new Promise((r) => setTimeout(r, 40));
    }
    await new Promise((r) => setTimeout(r, 600));
    for (const request of (await panel.posted()).filter(isRequest).slice(answered))
      await panel.send({ ...template, step: request.step });
    await page.waitForFunction(
      (last) => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.step === String(last),
      step,
      { timeout: 5_000 },
    );
    const requests = (await panel.posted()).filter(isRequest).length;
    assert.ok(requests < 40, `one request at a time: ${requests} requests for 60 snapshots`);
    await assertClean(panel);
    await page.close();
  });

  it('heatmap keeps following when an answer comes after its 2 s timeout', async () => {
    const panel = await openRun(browser);
    const { page } = panel;
    const template = snapshots.at(-1)!;
    const snapshotEvent = (step: number) => ({ ...run!.events.find((x) => x.type === 'snapshot')!, step });
    await panel.send({ ...runMessage, events: [snapshotEvent(100)] } as HostToWebview);
    assert.equal((await panel.waitForPosted(isRequest)).step, 100);
    // 200 arrives while 100 is unanswered (queued); 300 after the timeout (asked at once).
    await panel.send({ type: 'events', events: [snapshotEvent(200)] });
    await new Promise((r) => setTimeout(r, 2200));
    let seen = (await panel.posted()).length;
    await panel.send({ type: 'events', events: [snapshotEvent(300)] });
    assert.equal((await panel.waitForPosted(isRequest, seen)).step, 300);
    await panel.send({ ...template, step: 300 });
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.step === '300');
    // The next snapshot is followed, and the stale wish for 200 never asked.
    seen = (await panel.posted()).length;
    await panel.send({ type: 'events', events: [snapshotEvent(400)] });
    assert.equal((await panel.waitForPosted(isRequest, seen)).step, 400);
    assert.deepEqual(
      (await panel.posted()).filter(isRequest).map((m) => m.step),
      [100, 300, 400],
    );
    await assertClean(panel);
    await page.close();
  });

  it('slider, layer picker, theme switch and the tab, layer, step, scale and zoom kept across a reload', async () => {
    const panel = await openRun(browser);
    const { page } = panel;
    await panel.send(runMessage);
    const steps = snapshots.map((s) => s.step);
    const last = await showBlocks(panel);
    const first = await canvasPixels(page, '.heatmap');

    // Slider: moving it asks for that snapshot; the answer redraws.
    const middle = steps[1]!;
    const before = (await panel.posted()).length;
    await page.locator('input[type=range]').fill('1');
    assert.equal((await panel.waitForPosted(isRequest, before)).step, middle);
    await panel.send(withSecondLayer(snapshotAt(middle)));
    await page.waitForFunction(
      (s) => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.step === String(s),
      middle,
    );
    assert.ok(!(await canvasPixels(page, '.heatmap')).data.equals(first.data), 'a new snapshot changes the pixels');
    assert.notEqual(last, middle);

    // Layer picker.
    assert.deepEqual(await page.locator('select[title="Layer"] option').allTextContents(), ['dense_1', 'dense_2']);
    await page.selectOption('select[title="Layer"]', 'dense_2');
    await page.waitForFunction(
      () => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.layer === 'dense_2',
    );
    const d2 = await canvasPixels(page, '.heatmap');
    assert.equal(d2.height / d2.width, 2, 'an 8x4 grid');
    assert.equal(await page.textContent('.axis-rows'), '8 block rows', 'no kernel geometry: the grid only');
    await page.selectOption('select[title="Colour scale"]', 'step');
    await page.selectOption('select[title="Zoom"]', '2');

    // A theme switch redraws the hatching in the new background.
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.cell !== undefined);
    const cell = Number(await page.getAttribute('.heatmap', 'data-cell'));
    await switchTheme(page, 'vscode-light');
    await page.waitForFunction(
      () => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.background === '#ffffff',
    );
    const light = await canvasPixels(page, '.heatmap');
    const colour0 = blockColor(0, 0, 1, true, [255, 255, 255]); // dense_2 block 0 (score 0) is pruned
    const counts = cellPixels(light, cell, 0, 0, colour0, mix(colour0, [255, 255, 255], 0.75));
    assert.ok(counts.stripeCount > 0 && counts.plainCount > 0, 'hatched in the light background');
    await assertClean(panel);

    // Reload: the tab, layer, step, scale and zoom come back.
    const saved = await page.evaluate(() => JSON.parse(sessionStorage.getItem('vscode-state') ?? 'null') as unknown);
    assert.deepEqual(saved, {
      tab: 'blocks',
      importance: { layer: 'dense_2', step: middle, latest: false },
      scale: 'step',
      zoom: 2,
    });
    await page.reload();
    await panel.waitForPosted(isReady);
    await panel.send(runMessage);
    assert.equal((await panel.waitForPosted(isRequest)).step, middle, 'restores the saved step');
    await panel.send(withSecondLayer(snapshotAt(middle)));
    await page.waitForFunction(
      () => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.layer === 'dense_2',
    );
    assert.equal(await page.locator('select[title="Layer"]').inputValue(), 'dense_2');
    assert.equal(await page.locator('select[title="Colour scale"]').inputValue(), 'step');
    assert.equal(await page.locator('select[title="Zoom"]').inputValue(), '2');
    assert.equal(await page.locator('input[type=range]').inputValue(), '1');
    assert.equal(await page.getAttribute('#tab-blocks', 'aria-selected'), 'true');
    await assertClean(panel);

    // Rebuilt while its run goes on (VS Code rebuilds a hidden webview): a panel that was on the
    // newest snapshot then follows the run's newest now, not the step it showed.
    await page.evaluate(
      (step) =>
        sessionStorage.setItem('vscode-state', JSON.stringify({ tab: 'blocks', importance: { step, latest: true } })),
      steps.at(-2)!,
    );
    await page.reload();
    await panel.waitForPosted(isReady);
    await panel.send(runMessage);
    assert.equal((await panel.waitForPosted(isRequest)).step, last, 'a following panel keeps following');
    await assertClean(panel);
    await page.close();
  });
});
