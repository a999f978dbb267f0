/**
 * The heatmap's colour rules, pure so tests can predict pixels: scores map linearly from the
 * colour scale's [min, max] onto a viridis-like ramp. Pruned blocks keep their colour under a
 * hatching where blocks are large enough to show it; where they are too small for a hatch, they are
 * the colour mixed `PRUNED_DIM` of the way towards the background.
 */
import type { Rgb } from './theme';

export const PRUNED_DIM = 0.5;

/** Blocks at least this many device pixels wide are hatched when pruned; smaller ones are dimmed. */
export const HATCH_MIN_CELL = 5;

const STOPS: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Ramp colour at `t` in [0, 1] (clamped). */
export function ramp(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

export function blockColor(value: number, min: number, max: number, kept: boolean, background: Rgb): Rgb {
  const c = ramp(max > min ? (value - min) / (max - min) : 0.5);
  if (kept) return c;
  return [
    Math.round(c[0] + (background[0] - c[0]) * PRUNED_DIM),
    Math.round(c[1] + (background[1] - c[1]) * PRUNED_DIM),
    Math.round(c[2] + (background[2] - c[2]) * PRUNED_DIM),
  ];
}

/** How the tooltip and the legend print a score. */
export function formatScore(value: number): string {
  return Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.001)
    ? value.toExponential(3)
    : value.toFixed(4);
}

/** `Uint8Array.fromBase64` (native in current Chromium; not yet in TypeScript's lib). */
const fromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

export function decodeBase64(text: string): Uint8Array {
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian float32s, whatever the host's byte order. */
export function decodeScores(text: string): Float32Array {
  const bytes = decodeBase64(text);
  if (littleEndian) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Entries in a `ColorTable`: fine enough that a lookup is within one unit of `blockColor`. */
export const TABLE_SIZE = 1024;

/** `blockColor` precomputed over [0, 1] for kept and pruned blocks: RGB triplets, `TABLE_SIZE` each. */
export interface ColorTable {
  kept: Uint8Array;
  pruned: Uint8Array;
}

export function colorTable(background: Rgb): ColorTable {
  const kept = new Uint8Array(TABLE_SIZE * 3);
  const pruned = new Uint8Array(TABLE_SIZE * 3);
  for (let i = 0; i < TABLE_SIZE; i++) {
    kept.set(blockColor(i, 0, TABLE_SIZE - 1, true, background), i * 3);
    pruned.set(blockColor(i, 0, TABLE_SIZE - 1, false, background), i * 3);
  }
  return { kept, pruned };
}
