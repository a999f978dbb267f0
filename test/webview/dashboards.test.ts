// The dashboard bundles in headless Chromium under the panels' strict CSP, fed the messages of a
// real 300-step teacher-sapp run (test/fixtures/webview/run.json, see scripts/webviewFixtures.ts).
// Needs `npm run build` first (the `webview` layer of `npm test` builds).
import type { HostToWebview, WebviewToHost } from '@protocol';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { blockColor, formatScore } from '../../webview/src/heatmapColors';
import { withSecondLayer } from '../helpers/snapshotMessages';
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
} from '../helpers/webviewPage';

type Snapshot = Extract<HostToWebview, { type: 'snapshot' }>;

const root = ROOT;
const shots = join(root, '.test-output', 'webview');
const fixture = JSON.parse(readFileSync(join(root, 'test/fixtures/webview/run.json'), 'utf8')) as HostToWebview[];
const runMessage = fixture.find((m) => m.type === 'run')!;
const snapshots = fixture.filter((m): m is Snapshot => m.type === 'snapshot');
const snapshotAt = (step: number) => snapshots.find((s) => s.step === step)!;

const isRequest = (m: WebviewToHost): m is Extract<WebviewToHost, { type: 'requestSnapshot' }> =>
  m.type === 'requestSnapshot';
const isReady = (m: WebviewToHost): m is { type: 'ready' } => m.type === 'ready';

function decode(snapshot: Snapshot, name: string) {
  const layer = snapshot.layers.find((l) => l.name === name)!;
  const bytes = Buffer.from(layer.scores, 'base64');
  const scores = Array.from({ length: layer.gridRows * layer.gridCols }, (_, i) => bytes.readFloatLE(i * 4));
  const mask = Array.from(Buffer.from(layer.mask, 'base64'));
  return { ...layer, scores, mask, min: Math.min(...scores), max: Math.max(...scores) };
}

describe('dashboards in Chromium under the webview CSP', () => {
  let browser: Browser;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('the CSP is in force: an inline style is reported as a violation', async () => {
    const panel = await openPanel(browser, 'sparsity');
    await panel.page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red; }';
      document.head.append(style);
    });
    await panel.page.waitForFunction(() => (window as unknown as { __violations: string[] }).__violations.length > 0);
    assert.match((await panel.violations())[0]!, /style-src/);
    await panel.page.close();
  });

  it('sparsity panel: ready, curves drawn, theme switch, CSV export', async () => {
    const panel = await openPanel(browser, 'sparsity');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    assert.ok(
      await page.$eval('link[rel="stylesheet"][data-dashboard]', (l: HTMLLinkElement) =>
        l.href.endsWith('sparsity.css'),
      ),
    );
    await panel.send(runMessage);
    await page.waitForFunction(() => document.querySelector('.status')?.textContent?.includes('completed'));
    assert.equal(await page.locator('canvas').count(), 4);

    // Each curve's colour appears in most columns of its plot area.
    const dark = THEMES['vscode-dark'];
    for (const [id, color] of [
      ['sparsity', dark['--vscode-charts-blue']],
      ['loss', dark['--vscode-charts-blue']],
      ['time', dark['--vscode-charts-orange']],
    ] as const) {
      const p = await canvasPixels(page, `#chart-${id}`);
      assert.ok(p.area, `${id}: chart area`);
      const [left, top, right, bottom] = p.area.split(',').map(Number) as [number, number, number, number];
      let hits = 0;
      const columns = 40;
      for (let k = 0; k < columns; k++) {
        const x = left + 3 + ((right - left - 6) * k) / (columns - 1);
        for (let y = top; y <= Math.min(p.height - 1, bottom + 2); y++) {
          if (distance(pixel(p, x, y), hex(color)) <= 40) {
            hits++;
            break;
          }
        }
      }
      assert.ok(hits >= columns * 0.8, `${id}: curve colour in ${hits}/${columns} columns`);
    }
    // Accuracy: three evaluation points (pointRadius 3) somewhere in the plot.
    const q = await canvasPixels(page, '#chart-quality');
    const green = hex(dark['--vscode-charts-green']);
    let greenPixels = 0;
    for (let i = 0; i < q.data.length; i += 4) if (distance(q.data.subarray(i, i + 3), green) <= 30) greenPixels++;
    assert.ok(greenPixels > 20, `accuracy points: ${greenPixels} green pixels`);

    // Sparsify and sparse phases shade the plot: the area left of its top edge is not plain background.
    const s = await canvasPixels(page, '#chart-sparsity');
    const [left, top, right] = s.area!.split(',').map(Number) as [number, number, number, number];
    const bg = hex(dark['--vscode-editor-background']);
    assert.deepEqual(pixel(s, 1, 1), bg, 'canvas background is the theme background');
    let shaded = 0;
    for (let x = left + 1; x < right; x++) if (distance(pixel(s, x, top + 4), bg) > 3) shaded++;
    assert.ok(shaded > (right - left) * 0.3, `phase bands shade ${shaded} px of the top row`);
    await page.screenshot({ path: join(shots, 'sparsity-dark.png'), fullPage: true });

    // Theme switch: VS Code swaps the body class; the canvas background follows.
    await page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
    await page.waitForFunction(() => {
      const c = document.querySelector<HTMLCanvasElement>('#chart-sparsity')!;
      return c.getContext('2d')!.getImageData(1, 1, 1, 1).data[0] === 255;
    });
    assert.deepEqual(pixel(await canvasPixels(page, '#chart-sparsity'), 1, 1), [255, 255, 255]);
    await page.screenshot({ path: join(shots, 'sparsity-light.png'), fullPage: true });

    // CSV export.
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await panel.waitForPosted(
      (m): m is Extract<WebviewToHost, { type: 'exportCsv' }> => m.type === 'exportCsv',
    );
    const lines = csv.csv.trim().split('\n');
    assert.match(
      lines[0]!,
      /^step,phase,loss,learning_rate,target_sparsity,global_sparsity,block_sparsity_dense_1,clipped_fraction_dense_1,step_ms/,
    );
    const stepEvents = runMessage.type === 'run' ? runMessage.events.filter((e) => e.type === 'step') : [];
    assert.equal(lines.length, stepEvents.length + 1);
    assert.match(csv.name, /\.csv$/);

    await page.getByRole('button', { name: 'Save PNG' }).click();
    const png = await panel.waitForPosted(
      (m): m is Extract<WebviewToHost, { type: 'exportPng' }> => m.type === 'exportPng',
    );
    assert.match(png.dataUrl, /^data:image\/png;base64,/);
    await assertClean(panel);
    await page.close();
  });

  it('importance panel follows a live run when snapshots come faster than the answers', async () => {
    const panel = await openPanel(browser, 'importance');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    const template = snapshots.at(-1)!;
    const snapshotEvent = (step: number) => {
      const run = runMessage.type === 'run' ? runMessage : undefined;
      const e = run!.events.find((x) => x.type === 'snapshot')!;
      return { ...e, step };
    };
    await panel.send({ ...runMessage, events: [snapshotEvent(100)] } as HostToWebview);
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

  it('importance panel keeps following when an answer comes after its 2 s timeout', async () => {
    const panel = await openPanel(browser, 'importance');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    const template = snapshots.at(-1)!;
    const run = runMessage.type === 'run' ? runMessage : undefined;
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

  it('importance panel: kept vs pruned pixels, slider, layer picker, tooltip, theme, state across reload', async () => {
    const panel = await openPanel(browser, 'importance');
    const { page } = panel;
    await panel.waitForPosted(isReady);
    await panel.send(runMessage);
    const steps = snapshots.map((s) => s.step);
    const last = steps.at(-1)!;
    assert.equal((await panel.waitForPosted(isRequest)).step, last, 'asks for the latest snapshot');
    await panel.send(snapshotAt(last));
    await page.waitForFunction(
      (s) => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.step === String(s),
      last,
    );

    // Kept block centres show the ramp colour, pruned ones the colour dimmed towards the background;
    // kept blocks carry an outline on their inset edge.
    const layer = decode(snapshotAt(last), 'dense_1');
    const p = await canvasPixels(page, '.heatmap');
    const cw = p.width / layer.gridCols;
    const ch = p.height / layer.gridRows;
    assert.equal(cw, Math.floor(cw), 'cells are whole pixels');
    const bg = hex(THEMES['vscode-dark']['--vscode-editor-background']);
    const keptIndex = layer.mask.indexOf(1);
    const prunedIndex = layer.mask.indexOf(0);
    assert.ok(keptIndex >= 0 && prunedIndex >= 0, 'the last snapshot has kept and pruned blocks');
    const centre = (i: number) =>
      pixel(p, ((i % layer.gridCols) + 0.5) * cw, (Math.floor(i / layer.gridCols) + 0.5) * ch);
    for (const i of [keptIndex, prunedIndex, layer.mask.lastIndexOf(1), layer.mask.lastIndexOf(0)]) {
      const expected = blockColor(layer.scores[i]!, layer.min, layer.max, layer.mask[i] === 1, bg);
      assert.ok(distance(centre(i), expected) <= 2, `block ${i}: ${String(centre(i))} vs ${String(expected)}`);
    }
    const edge = pixel(p, (keptIndex % layer.gridCols) * cw, (Math.floor(keptIndex / layer.gridCols) + 0.5) * ch);
    assert.ok(distance(edge, hex(THEMES['vscode-dark']['--vscode-focusBorder'])) <= 2, 'kept block outlined');
    assert.ok(
      distance(centre(prunedIndex), bg) <
        distance(blockColor(layer.scores[prunedIndex]!, layer.min, layer.max, true, bg), bg),
    );
    await page.screenshot({ path: join(shots, 'importance-dark.png'), fullPage: true });

    // Tooltip: block index and value under the pointer.
    const box = (await page.locator('.heatmap').boundingBox())!;
    const [r, c] = [Math.floor(prunedIndex / layer.gridCols), prunedIndex % layer.gridCols];
    await page.mouse.move(
      box.x + (c + 0.5) * (box.width / layer.gridCols),
      box.y + (r + 0.5) * (box.height / layer.gridRows),
    );
    const tip = page.locator('.tooltip');
    await tip.waitFor({ state: 'visible' });
    const text = (await tip.textContent())!;
    assert.ok(text.includes(`block (${r}, ${c})`), text);
    assert.ok(text.includes(formatScore(layer.scores[prunedIndex]!)), text);
    assert.ok(text.includes('pruned'), text);

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
    const q = await canvasPixels(page, '.heatmap');
    assert.ok(!q.data.equals(p.data), 'a new snapshot changes the pixels');

    // Layer picker.
    assert.deepEqual(await page.locator('select option').allTextContents(), ['dense_1', 'dense_2']);
    await page.selectOption('select', 'dense_2');
    await page.waitForFunction(
      () => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.layer === 'dense_2',
    );
    const d2 = await canvasPixels(page, '.heatmap');
    assert.equal(d2.height / d2.width, 2, 'an 8x4 grid');
    const state = await page.evaluate(() => JSON.parse(sessionStorage.getItem('vscode-state') ?? 'null') as unknown);
    assert.deepEqual(state, { layer: 'dense_2', step: middle, latest: false });

    // Theme switch changes pruned (background-mixed) pixels.
    const prunedD2 = pixel(d2, 0.5 * (d2.width / 4), 0.5 * (d2.height / 8)); // block 0 is pruned
    await page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
    await page.waitForFunction((old) => {
      const c = document.querySelector<HTMLCanvasElement>('.heatmap')!;
      const px = c.getContext('2d')!.getImageData(Math.floor(c.width / 8), Math.floor(c.height / 16), 1, 1).data;
      return px[0] !== old[0] || px[1] !== old[1] || px[2] !== old[2];
    }, prunedD2);
    const light = pixel(await canvasPixels(page, '.heatmap'), 0.5 * (d2.width / 4), 0.5 * (d2.height / 8));
    assert.deepEqual(light, blockColor(0, 0, 1, false, [255, 255, 255]));
    await page.screenshot({ path: join(shots, 'importance-light.png'), fullPage: true });
    await assertClean(panel);

    // Reload: the saved layer and step come back.
    await page.reload();
    await panel.waitForPosted(isReady);
    await panel.send(runMessage);
    assert.equal((await panel.waitForPosted(isRequest)).step, middle, 'restores the saved step');
    await panel.send(withSecondLayer(snapshotAt(middle)));
    await page.waitForFunction(
      () => document.querySelector<HTMLCanvasElement>('.heatmap')?.dataset.layer === 'dense_2',
    );
    assert.equal(await page.locator('select').inputValue(), 'dense_2');
    assert.equal(await page.locator('input[type=range]').inputValue(), '1');
    await assertClean(panel);

    // Rebuilt while its run goes on (VS Code rebuilds a hidden webview): a panel that was on the
    // newest snapshot then follows the run's newest now, not the step it showed.
    await page.evaluate(
      (step) => sessionStorage.setItem('vscode-state', JSON.stringify({ step, latest: true })),
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
