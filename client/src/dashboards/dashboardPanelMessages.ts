/**
 * Validation of what a dashboard webview sends (its input is untrusted), and the batching of the
 * run panel's live events. No `vscode` here, so plain Node tests and the benches load it.
 */
import type {
  DashboardKind,
  ExportCsvMessage,
  ExportPngMessage,
  PanelMessageOf,
  ReadyMessage,
  RequestSnapshotMessage,
  RunEvent,
  WebviewToHost,
} from '@protocol';

/**
 * The run panel is posted live events at most this often. It redraws its charts at most every 2 s,
 * so more messages only cost: each is cloned through the workbench into the panel's renderer, CPU
 * that a 2-core machine takes from training (bench/sessions.bench.ts).
 */
export const LIVE_POST_MS = 1000;

/** Collects the run panel's live events and posts them together, at most once every `intervalMs`. */
export class LiveEventRelay {
  private pending: RunEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastPost = -Infinity;

  constructor(
    private readonly post: (events: RunEvent[]) => void,
    private readonly intervalMs = LIVE_POST_MS,
  ) {}

  push(events: readonly RunEvent[]): void {
    this.pending.push(...events);
    if (this.pending.length === 0 || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastPost + this.intervalMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Posts what is pending now (before a message that must come after it). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.lastPost = performance.now();
    this.post(this.pending.splice(0));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}

const SAFE_NAME = /^[\w.-]{1,100}$/;

type Fields = Record<string, unknown>;

/** A parser per message type of a union: the sane message, or null. */
type ParsersOf<M extends WebviewToHost> = { [T in M['type']]: (m: Fields) => Extract<M, { type: T }> | null };

const ready = (): ReadyMessage => ({ type: 'ready' });

const requestSnapshot = (m: Fields): RequestSnapshotMessage | null =>
  Number.isInteger(m['step']) && (m['step'] as number) >= 0
    ? { type: 'requestSnapshot', step: m['step'] as number }
    : null;

const exportCsv = (m: Fields): ExportCsvMessage | null =>
  typeof m['name'] === 'string' && SAFE_NAME.test(m['name']) && typeof m['csv'] === 'string'
    ? { type: 'exportCsv', name: m['name'], csv: m['csv'] }
    : null;

const exportPng = (m: Fields): ExportPngMessage | null =>
  typeof m['name'] === 'string' &&
  SAFE_NAME.test(m['name']) &&
  typeof m['dataUrl'] === 'string' &&
  m['dataUrl'].startsWith('data:image/png;base64,')
    ? { type: 'exportPng', name: m['name'], dataUrl: m['dataUrl'] }
    : null;

/** What each panel may send: a type another panel sends is as foreign as an unknown one. */
const PANEL_PARSERS: { [K in DashboardKind]: ParsersOf<PanelMessageOf<K>> } = {
  run: { ready, requestSnapshot, exportCsv, exportPng },
  schedule: { ready, exportCsv, exportPng },
  compare: { ready, exportCsv, exportPng },
  sweep: { ready, exportCsv, exportPng },
};

/** The message if it is one that a panel of `kind` sends, with sane fields, else null. */
export function parsePanelMessage<K extends DashboardKind>(kind: K, raw: unknown): PanelMessageOf<K> | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Fields;
  const parsers: Partial<Record<string, (m: Fields) => WebviewToHost | null>> = PANEL_PARSERS[kind];
  const type = m['type'];
  // Own keys only: `toString` or `__proto__` is no message type.
  if (typeof type !== 'string' || !Object.hasOwn(parsers, type)) return null;
  // The table's row for `kind` holds the parsers of that panel's union only.
  return parsers[type]!(m) as PanelMessageOf<K> | null;
}
