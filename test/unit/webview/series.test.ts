// The chart panels' point series: min/max decimation of long series (spikes survive, order kept,
// at most MAX_POINTS), finite values only, CSV fields.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decimate, MAX_POINTS } from '../../../webview/src/decimate';
import { csvField, points } from '../../../webview/src/state/series';

/** A seeded noisy series (LCG), `n` values around 1. */
function noisy(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 1 + s / 2 ** 32;
  });
}

describe('decimate', () => {
  it('a series within the limit comes back whole, as a copy', () => {
    const items = [3, 1, 2];
    const out = decimate(items, (v) => v);
    assert.deepEqual(out, items);
    assert.notEqual(out, items);
    assert.deepEqual(
      decimate([], (v: number) => v),
      [],
    );
  });

  for (const seed of [1, 2, 3])
    it(`a long series (seed ${seed}): at most maxPoints, in order, each bucket's min and max kept`, () => {
      const values = noisy(25_000, seed);
      const spikeAt = 1_000 + seed * 7_001;
      values[spikeAt] = 100;
      values[spikeAt + 3] = -100;
      const indices = decimate(
        values.map((_, i) => i),
        (i) => values[i]!,
      );
      assert.ok(indices.length <= MAX_POINTS && indices.length >= MAX_POINTS / 2, `${indices.length} points`);
      assert.ok(
        indices.every((x, k) => k === 0 || x > indices[k - 1]!),
        'original order, no repeats',
      );
      assert.ok(indices.includes(spikeAt) && indices.includes(spikeAt + 3), 'both spikes survive');
      // Every bucket contributes its own extremes.
      const buckets = MAX_POINTS / 2;
      for (let b = 0; b < buckets; b += 97) {
        const start = Math.floor((b * values.length) / buckets);
        const end = Math.floor(((b + 1) * values.length) / buckets);
        const slice = values.slice(start, end);
        const kept = indices.filter((i) => i >= start && i < end).map((i) => values[i]!);
        assert.equal(Math.min(...kept), Math.min(...slice), `bucket ${b} min`);
        assert.equal(Math.max(...kept), Math.max(...slice), `bucket ${b} max`);
      }
    });

  it('honours a smaller maxPoints', () => {
    const out = decimate(noisy(1_000, 9), (v) => v, 100);
    assert.ok(out.length <= 100, `${out.length} points`);
  });
});

describe('points', () => {
  it('keeps finite values only, as {x, y}', () => {
    const events = [
      { step: 0, v: 1 },
      { step: 1, v: undefined },
      { step: 2, v: Number.NaN },
      { step: 3, v: Number.POSITIVE_INFINITY },
      { step: 4, v: 0 },
    ];
    assert.deepEqual(
      points(
        events,
        (e) => e.step,
        (e) => e.v,
      ),
      [
        { x: 0, y: 1 },
        { x: 4, y: 0 },
      ],
    );
  });

  it('decimates long series', () => {
    const events = noisy(10_000, 4).map((v, step) => ({ step, v }));
    const out = points(
      events,
      (e) => e.step,
      (e) => e.v,
    );
    assert.ok(out.length <= MAX_POINTS);
  });
});

describe('csvField', () => {
  it('quotes a field holding a comma, quote or newline, doubling quotes', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
  });
});
