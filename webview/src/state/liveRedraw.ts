/**
 * When a live chart panel redraws: at once for a whole new state (a run, a theme), and for live
 * events at most once per interval, all the events that came meanwhile in one redraw. Pure apart
 * from the timer it is given, so Node tests drive it with a fake clock.
 */

/** The clock and timer a `LiveRedraw` runs on; the page's by default. */
export interface Timer {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const pageTimer: Timer = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class LiveRedraw {
  private lastDraw = -Infinity;
  /** The timer of the redraw that is due, if one is. */
  private pending: { handle: unknown } | undefined;

  constructor(
    private readonly draw: () => void,
    private readonly intervalMs: number,
    private readonly timer: Timer = pageTimer,
  ) {}

  /** Live events arrived: redraw once the interval since the last redraw has passed, unless already due. */
  soon(): void {
    if (this.pending !== undefined) return;
    const wait = Math.max(0, this.lastDraw + this.intervalMs - this.timer.now());
    this.pending = {
      handle: this.timer.setTimeout(() => {
        this.pending = undefined;
        this.now();
      }, wait),
    };
  }

  /** Redraws at once; a redraw that was due is no longer needed. */
  now(): void {
    this.lastDraw = this.timer.now();
    if (this.pending) this.timer.clearTimeout(this.pending.handle);
    this.pending = undefined;
    this.draw();
  }
}
