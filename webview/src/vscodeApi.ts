/** The webview's handle on the host: typed `postMessage`, and the small state VS Code keeps across reloads. */
import type { WebviewToHost } from '@protocol';

interface RawVsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): unknown;
}

declare function acquireVsCodeApi(): RawVsCodeApi;

/** `S`: the state kept across reloads; `M`: what this panel sends its host (its `…PanelMessage` union). */
export interface VsCodeApi<S, M extends WebviewToHost = WebviewToHost> {
  postMessage(message: M): void;
  getState(): Partial<S>;
  setState(state: S): void;
}

let raw: RawVsCodeApi | undefined;

/** `acquireVsCodeApi` may be called only once per page; every caller shares that one handle. */
export function vscodeApi<S extends object, M extends WebviewToHost>(): VsCodeApi<S, M> {
  raw ??= acquireVsCodeApi();
  const api = raw;
  return {
    postMessage: (message) => api.postMessage(message),
    getState: () => {
      const state = api.getState();
      return typeof state === 'object' && state !== null ? (state as Partial<S>) : {};
    },
    setState: (state) => void api.setState(state),
  };
}
