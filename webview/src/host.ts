/** What every panel does with its host: the export buttons, and the start-up wiring. */
import type { ExportMessage, HostToWebview, ReadyMessage } from '@protocol';
import { el } from './dom';
import { watchTheme } from './theme';

type Poster<M> = { postMessage(message: M): void };

/**
 * The toolbar's Export CSV and Save PNG buttons. `csv` returns nothing while there is nothing to
 * export; `png` names the file and the canvas to save.
 */
export function exportButtons(
  api: Poster<ExportMessage>,
  titles: { csv: string; png: string },
  csv: () => { name: string; csv: string } | undefined,
  png: () => { name: string; canvas: HTMLCanvasElement },
): [HTMLButtonElement, HTMLButtonElement] {
  const csvButton = el('button', { text: 'Export CSV', title: titles.csv });
  const pngButton = el('button', { text: 'Save PNG', title: titles.png });
  csvButton.addEventListener('click', () => {
    const file = csv();
    if (file) api.postMessage({ type: 'exportCsv', ...file });
  });
  pngButton.addEventListener('click', () => {
    const { name, canvas } = png();
    api.postMessage({ type: 'exportPng', name, dataUrl: canvas.toDataURL('image/png') });
  });
  return [csvButton, pngButton];
}

/**
 * Routes host messages to `handle` (typed as the panel's own union: the host sends a panel only
 * those) and theme switches to `onTheme`, then tells the host it is ready.
 */
export function connectToHost<H extends HostToWebview>(
  api: Poster<ReadyMessage>,
  handle: (message: H) => void,
  onTheme: () => void,
): void {
  watchTheme(onTheme);
  window.addEventListener('message', (event: MessageEvent<H>) => handle(event.data));
  api.postMessage({ type: 'ready' });
}
