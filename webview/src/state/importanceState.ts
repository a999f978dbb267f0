/**
 * The run panel's block-importance state, pure (no DOM, no canvas, no `acquireVsCodeApi`): the run's
 * snapshot steps, the step the slider is on and the one drawn, the layers of the drawn snapshot
 * and the one picked, and the exchange with the host, one snapshot request at a time. Each input, a
 * host message or a user action, returns an `ImportanceUpdate`: what the view must post, keep
 * across reloads, redraw. `run.ts` and `heatmap.ts` are the view; Node tests drive this with messages.
 */
import type {
  KernelGeometry,
  RequestSnapshotMessage,
  RunEvent,
  ScoreRange,
  SnapshotLayerBase64,
  SnapshotMessage,
} from '@protocol';
import { decodeBase64, decodeScores } from '../heatmapColors';

/** What VS Code keeps across a reload of the webview (`setState`, read back with `getState`). */
export interface SavedImportanceState {
  layer?: string;
  step?: number;
  /** The slider was on the newest snapshot: a restored panel of a live run keeps following it. */
  latest?: boolean;
}

/** One layer of a snapshot, decoded once when the snapshot arrives. */
export interface DecodedLayer {
  name: string;
  rows: number;
  cols: number;
  kernel?: KernelGeometry;
  scores: Float32Array;
  mask: Uint8Array;
  min: number;
  max: number;
}

/** What the view does after an input. */
export interface ImportanceUpdate {
  /** Messages for the host, in order. */
  post: RequestSnapshotMessage[];
  /** The state to keep across reloads, when it changed. */
  save?: SavedImportanceState;
  /** Redraw the heatmap: a new snapshot, another layer, or a run re-sent under a drawn snapshot. */
  draw: boolean;
  /** Set the slider and its label from `steps` and `selectedStep` again. */
  slider: boolean;
}

/** A request unanswered this long no longer blocks the next one (the host drops requests it cannot answer). */
export const ANSWER_TIMEOUT_MS = 2000;

export function decodeLayer(layer: SnapshotLayerBase64): DecodedLayer {
  const scores = decodeScores(layer.scores);
  const mask = decodeBase64(layer.mask);
  let min = Infinity;
  let max = -Infinity;
  for (const v of scores) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    name: layer.name,
    rows: layer.gridRows,
    cols: layer.gridCols,
    ...(layer.kernel && { kernel: layer.kernel }),
    scores,
    mask,
    min,
    max,
  };
}

const snapshotSteps = (events: readonly RunEvent[]) => events.filter((e) => e.type === 'snapshot').map((e) => e.step);

const noUpdate = (): ImportanceUpdate => ({ post: [], draw: false, slider: false });

export class ImportanceState {
  private snapshotStepList: number[] = [];
  /** The step the slider is on: the one drawn, or the one asked for next. */
  private selected: number | undefined;
  /** The step of the snapshot drawn. */
  private drawn: number | undefined;
  /** The request the host is answering, and the step wanted next (see `requestStep`). */
  private inFlight: { step: number; since: number } | undefined;
  private queued: number | undefined;
  private layerName: string | undefined;
  private decoded: DecodedLayer[] = [];
  /** Each layer's score range over the run so far, as the last snapshot answer gave it. */
  private ranges: Record<string, ScoreRange> = {};
  private scoreKind: SnapshotMessage['score'] = 'attention';
  /** Whether the restored panel was on the newest snapshot (then a live run's panel keeps following). */
  private readonly restoredLatest: boolean;

  /** `saved`: what `save` held before a reload; `now`: a clock in milliseconds, for the answer timeout. */
  constructor(
    saved: SavedImportanceState = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.layerName = saved.layer;
    this.selected = saved.step;
    this.restoredLatest = saved.latest ?? saved.step === undefined;
  }

  /** The run's snapshot steps, ascending. */
  get steps(): readonly number[] {
    return this.snapshotStepList;
  }

  get selectedStep(): number | undefined {
    return this.selected;
  }

  /** The slider position of `selectedStep`, or -1 while it is no snapshot step. */
  get sliderIndex(): number {
    return this.selected === undefined ? -1 : this.snapshotStepList.indexOf(this.selected);
  }

  get snapshotStep(): number | undefined {
    return this.drawn;
  }

  stepAt(index: number): number | undefined {
    return this.snapshotStepList[index];
  }

  get layerNames(): string[] {
    return this.decoded.map((l) => l.name);
  }

  get selectedLayer(): string | undefined {
    return this.layerName;
  }

  /** The score range of a layer over the run so far (the fixed colour scale), when the host gave one. */
  runRange(name: string): ScoreRange | undefined {
    return Object.hasOwn(this.ranges, name) ? this.ranges[name] : undefined;
  }

  /** What the drawn snapshot's scores are: SA++ attention, or block norms over their mean. */
  get score(): SnapshotMessage['score'] {
    return this.scoreKind;
  }

  /** The layer to draw: the one picked, else the snapshot's first. */
  get layer(): DecodedLayer | undefined {
    return this.decoded.find((l) => l.name === this.layerName) ?? this.decoded[0];
  }

  /** A `run` message: its snapshot steps replace the slider's. */
  showRun(events: readonly RunEvent[]): ImportanceUpdate {
    const update = noUpdate();
    this.setSteps(update, snapshotSteps(events));
    // A re-sent run (its session ended) keeps the heatmap it shows: redraw its description.
    if (this.decoded.length > 0 && this.inFlight === undefined) update.draw = true;
    return update;
  }

  /** An `events` message: new snapshots of a live run join the slider. */
  addEvents(events: readonly RunEvent[]): ImportanceUpdate {
    const update = noUpdate();
    const added = snapshotSteps(events);
    if (added.length > 0) this.setSteps(update, [...this.snapshotStepList, ...added]);
    return update;
  }

  /** A `snapshot` message, the answer to a request: drawn, then the step wanted meanwhile is asked for. */
  showSnapshot(message: SnapshotMessage): ImportanceUpdate {
    // An answer overtaken by a newer request (sent after this one timed out): drawing it would
    // move the slider off the newest step and stop a live panel following the run.
    if (this.inFlight !== undefined && this.inFlight.step !== message.step) return noUpdate();
    this.inFlight = undefined;
    const next = this.queued;
    this.queued = undefined;
    this.drawn = message.step;
    // The slider stays on the step wanted next, so a live panel keeps following the newest.
    this.selected = next ?? message.step;
    if (!this.snapshotStepList.includes(message.step))
      this.snapshotStepList = [...this.snapshotStepList, message.step].sort((a, b) => a - b);
    this.decoded = message.layers.map(decodeLayer);
    this.ranges = message.runRanges ?? {};
    this.scoreKind = message.score;
    const names = this.layerNames;
    if (this.layerName === undefined || !names.includes(this.layerName)) this.layerName = names[0];
    const update: ImportanceUpdate = { post: [], draw: true, slider: true };
    this.markSaved(update);
    if (next !== undefined && next !== message.step) this.requestStep(update, next);
    return update;
  }

  /** The user let go of the slider at `index`. */
  pickStepAt(index: number): ImportanceUpdate {
    const update = noUpdate();
    const step = this.stepAt(index);
    if (step !== undefined && step !== this.drawn) this.requestStep(update, step);
    return update;
  }

  /** The user picked a layer. */
  pickLayer(name: string): ImportanceUpdate {
    this.layerName = name;
    const update: ImportanceUpdate = { post: [], draw: true, slider: false };
    this.markSaved(update);
    return update;
  }

  /**
   * The run's snapshot steps changed (a `run`, or new snapshots of a live run): a panel on the newest
   * step moves to the new newest, one the user moved stays where it is.
   */
  private setSteps(update: ImportanceUpdate, next: number[]): void {
    const previousLast = this.snapshotStepList.at(-1);
    this.snapshotStepList = [...new Set(next)].sort((a, b) => a - b);
    update.slider = true;
    const last = this.snapshotStepList.at(-1);
    if (last === undefined) return;
    const selected = this.selected;
    // A panel recreated while its run goes on (VS Code rebuilds a hidden webview) has no steps yet:
    // its saved state says whether it was following, else it would stick to the step it showed.
    const following =
      previousLast === undefined ? this.restoredLatest : selected === undefined || selected === previousLast;
    const wanted = following || selected === undefined || !this.snapshotStepList.includes(selected) ? last : selected;
    if (wanted !== this.drawn) this.requestStep(update, wanted);
  }

  /**
   * Asks the host for a snapshot, one request at a time: while one is answered, the latest wish
   * waits (a live run adds snapshots faster than answers may come back). A request unanswered for
   * `ANSWER_TIMEOUT_MS` no longer blocks.
   */
  private requestStep(update: ImportanceUpdate, step: number): void {
    this.selected = step;
    update.slider = true;
    this.markSaved(update);
    if (this.inFlight !== undefined && this.now() - this.inFlight.since < ANSWER_TIMEOUT_MS) {
      this.queued = step;
      return;
    }
    // This request supersedes a wish queued behind the one that timed out: answering that older wish
    // afterwards would move the slider back and stop a live panel following the run.
    this.queued = undefined;
    this.inFlight = { step, since: this.now() };
    update.post.push({ type: 'requestSnapshot', step });
  }

  /** What to keep across a reload, as it is now. */
  saved(): SavedImportanceState {
    const state: SavedImportanceState = {};
    if (this.layerName !== undefined) state.layer = this.layerName;
    if (this.selected !== undefined) state.step = this.selected;
    state.latest = this.selected === undefined || this.selected === this.snapshotStepList.at(-1);
    return state;
  }

  /** Records what to keep across a reload as it is now (later changes in the same input update it). */
  private markSaved(update: ImportanceUpdate): void {
    update.save = this.saved();
  }
}
