/**
 * Min/max decimation: splits a series into buckets and keeps, per bucket, the items holding the
 * smallest and the largest value (in their original order), so spikes survive while a long run
 * stays at most `maxPoints` points. Pure; shared by the panels and the fixture script.
 */
export const MAX_POINTS = 2000;

export function decimate<T>(items: readonly T[], value: (item: T) => number, maxPoints = MAX_POINTS): T[] {
  if (items.length <= maxPoints) return items.slice();
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const kept: T[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * items.length) / buckets);
    const end = Math.floor(((b + 1) * items.length) / buckets);
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      const v = value(items[i]!);
      if (v < value(items[lo]!)) lo = i;
      if (v > value(items[hi]!)) hi = i;
    }
    if (lo === hi) kept.push(items[lo]!);
    else if (lo < hi) kept.push(items[lo]!, items[hi]!);
    else kept.push(items[hi]!, items[lo]!);
  }
  return kept;
}
