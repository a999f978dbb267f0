/**
 * Asks the client to fetch code lenses again (`workspace/codeLens/refresh`) when what they show
 * has changed, and once more after things settle. VS Code waits its code lens debounce (250 ms or
 * more) before fetching, and drops that pending fetch when the editor loses focus in the meantime
 * (its code lens controller cancels the scheduler on blur and reschedules only on focus, an edit
 * or a later refresh): clicking Run and then the notification centre left the Run lens over a
 * running session with no Open dashboard lens. The settled refresh comes after that window, so one
 * focus change cannot drop both.
 */
export class LensRefresher {
  private settleTimer: NodeJS.Timeout | undefined;

  /**
   * @param send sends the refresh request (a no-op for a client without refresh support)
   * @param settleMs how long after the last refresh the settled one goes out; longer than VS
   *   Code's debounce, so the two are never pending in the client at once
   */
  constructor(
    private readonly send: () => void,
    private readonly settleMs = 2_000,
  ) {}

  refresh(): void {
    this.send();
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.send();
    }, this.settleMs);
    this.settleTimer.unref();
  }

  dispose(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
  }
}
