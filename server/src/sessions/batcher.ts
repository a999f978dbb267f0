/**
 * Collects items and hands them over together: the first batch at once, later ones at most every
 * `intervalMs`. Run events cross two boundaries this way: the worker thread to the session manager,
 * and the manager to the client.
 */
export class Batcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDelivery = -Infinity;

  constructor(
    private readonly deliver: (items: T[]) => void,
    private readonly intervalMs: number,
  ) {}

  add(item: T): void {
    this.pending.push(item);
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastDelivery + this.intervalMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Delivers what is pending now (before a message that must come after it). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.lastDelivery = performance.now();
    this.deliver(this.pending.splice(0));
  }
}
