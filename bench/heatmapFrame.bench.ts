/**
 * One heatmap update of the run panel (its block-importance tab) in headless Chromium, on a 256x256-block layer
 * (65,536 blocks, 25% kept): a `snapshot` message posted to the page, alternating between two
 * snapshots so every update redraws. Timed in the page with performance.now():
 * - update: from postMessage until the panel's handler has returned (base64 decode, colouring,
 *   putImageData into the 256x256 offscreen canvas, the scaled drawImage);
 * - handler: the panel's own `heatmap-update` measure (decode and draw, without the message's
 *   trip through the event loop and its structured clone);
 * - draw: the panel's own `heatmap-draw` measure (colouring and drawing, without the decode);
 * - frame: from postMessage until the next requestAnimationFrame callback after the update
 *   (includes waiting for the frame boundary, so it is quantized by the compositor's ~16.7 ms).
 * Needs `npm run build` first.
 *
 *   node --import tsx bench/heatmapFrame.bench.ts [updates]
 */
import type { HostToWebview } from '@protocol';
import { launch, openPanel } from '../test/helpers/webviewPage';

const UPDATES = Number(process.argv[2] ?? 120);
const SIDE = 256;
const FRAME_MS = 1000 / 60;

function snapshot(step: number, seed: number): HostToWebview {
  const n = SIDE * SIDE;
  const scores = Buffer.alloc(n * 4);
  const mask = Buffer.alloc(n);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    const v = -Math.log(1 - next()); // exponential, like attention scores around 1
    scores.writeFloatLE(v, i * 4);
    mask[i] = v > 1.386 ? 1 : 0; // about 25% kept
  }
  return {
    type: 'snapshot',
    step,
    score: 'attention',
    layers: [
      { name: 'big', gridRows: SIDE, gridCols: SIDE, scores: scores.toString('base64'), mask: mask.toString('base64') },
    ],
    runRanges: {},
  };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p95: q(0.95) };
}

/**
 * The in-page loop, as source text: tsx would wrap a function literal's inner functions in a
 * `__name` helper that the page does not have.
 */
const IN_PAGE = `async (updates) => {
  const messages = window.benchMessages;
  const update = [];
  const frame = [];
  let handled;
  // Registered after the panel's listener, so it runs once the panel has handled the message.
  window.addEventListener('message', () => handled && handled());
  const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
  performance.clearMeasures('heatmap-draw');
  performance.clearMeasures('heatmap-update');
  for (let i = -5; i < updates; i++) {
    await nextFrame();
    const done = new Promise((r) => (handled = () => r(performance.now())));
    const t0 = performance.now();
    window.postMessage(messages[(i + 10) % 2], '*');
    const t1 = await done;
    const t2 = await nextFrame();
    if (i >= 0) {
      update.push(t1 - t0);
      frame.push(t2 - t0);
    }
  }
  const draw = performance.getEntriesByName('heatmap-draw').slice(5).map((e) => e.duration);
  const handler = performance.getEntriesByName('heatmap-update').slice(5).map((e) => e.duration);
  const c = document.querySelector('.heatmap');
  return { update, frame, draw, handler, canvas: c.width + 'x' + c.height };
}`;

async function main(): Promise<void> {
  const browser = await launch();
  try {
    const panel = await openPanel(browser, 'run');
    await panel.waitForPosted((m): m is { type: 'ready' } => m.type === 'ready');
    await panel.page.click('#tab-blocks');
    const messages = [snapshot(100, 1), snapshot(200, 2)];
    await panel.page.evaluate((m) => {
      (globalThis as unknown as { benchMessages: unknown }).benchMessages = m;
    }, messages);
    const result = (await panel.page.evaluate(`(${IN_PAGE})(${UPDATES})`)) as {
      update: number[];
      frame: number[];
      draw: number[];
      handler: number[];
      canvas: string;
    };
    const line = (name: string, xs: number[]) => {
      const { median, p95 } = stats(xs);
      console.log(
        `${name.padEnd(8)} median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms  ` +
          `(${(median / FRAME_MS).toFixed(2)}x / ${(p95 / FRAME_MS).toFixed(2)}x a 16.7 ms frame)`,
      );
    };
    console.log(`heatmap ${SIDE}x${SIDE} blocks -> canvas ${result.canvas}, ${UPDATES} updates, ${browser.version()}`);
    line('update', result.update);
    line('handler', result.handler);
    line('draw', result.draw);
    line('frame', result.frame);
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
