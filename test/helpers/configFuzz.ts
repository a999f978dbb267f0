/**
 * Seeded mutations of experiment files for the fuzz test (a slice, in the default suite) and the
 * fuzz bench (10,000 and more): the editing accidents of the first fuzz (deleted, duplicated and
 * swapped lines, random characters, huge numbers, deep nesting, tabs, truncation, anchors) and the
 * hostile ones: paths to special files (FIFOs, devices, folders, /proc, outside the workspace),
 * sizes that cannot fit, thousands of unknown keys, and file encodings (UTF-16, Latin-1, NUL bytes,
 * invalid UTF-8). A `FuzzWorkspace` holds the special files the paths point at.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../server/src/data/random';
import { SAMPLES_DIR } from './experimentFixtures';

type Mutation = (text: string, rng: Rng, workspace: FuzzWorkspace) => string;

const lines = (text: string) => text.split('\n');
export const pick = <T>(xs: readonly T[], rng: Rng): T => xs[rng.int(xs.length)]!;

/** A scratch folder with the special files the mutations point at; `data/` is the samples' data. */
export class FuzzWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'sparsity-fuzz-'));
  /** Paths a config may name that must be refused without blocking or reading outside. */
  readonly specialPaths: string[];

  constructor() {
    symlinkSync(join(SAMPLES_DIR, 'data'), join(this.dir, 'data'));
    const fifo = join(this.dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error('mkfifo failed');
    mkdirSync(join(this.dir, 'folder.json'));
    writeFileSync(join(this.dir, 'empty.json'), '');
    writeFileSync(join(this.dir, 'huge.bin'), '');
    truncateSync(join(this.dir, 'huge.bin'), 8 * 2 ** 30); // sparse
    writeFileSync(join(this.dir, 'garbage.json'), Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x00, 0x00]));
    this.specialPaths = [
      './fifo',
      fifo,
      '/dev/zero',
      '/dev/null',
      '/dev/urandom',
      '/proc/self/mem',
      '/proc/self/status',
      './folder.json',
      '.',
      '/',
      './empty.json',
      './huge.bin',
      './garbage.json',
      '/etc/passwd',
      '../../../../../../../../etc/passwd',
      './no/such/file',
      '',
      ' ',
      '\u0000',
      'a'.repeat(5000),
    ];
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const HUGE = ['65536', '100000', '10000000', '2147483647', '9007199254740993', '1e308', '4294967296'];

export const MUTATIONS: Record<string, Mutation> = {
  deleteLine: (t, r) =>
    lines(t)
      .filter((_, i, a) => i !== r.int(a.length))
      .join('\n'),
  duplicateLine: (t, r) => {
    const ls = lines(t);
    const i = r.int(ls.length);
    ls.splice(i, 0, ls[i]!);
    return ls.join('\n');
  },
  swapLines: (t, r) => {
    const ls = lines(t);
    const i = r.int(ls.length);
    const j = r.int(ls.length);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return ls.join('\n');
  },
  randomBytes: (t, r) => {
    const at = r.int(t.length + 1);
    const junk = Array.from({ length: 1 + r.int(12) }, () => String.fromCharCode(r.int(0x3000))).join('');
    return t.slice(0, at) + junk + t.slice(at);
  },
  hugeNumber: (t, r) =>
    t.replace(/\b\d+(\.\d+)?\b/g, (m) =>
      r.next() < 0.3 ? pick(['1e309', '-1e309', '99999999999999999999999', 'NaN', '.inf', '-0'], r) : m,
    ),
  deepNesting: (t, r) => `${t}\nextra: ${'['.repeat(200 + r.int(800))}${']'.repeat(r.int(1000))}\n`,
  deepMappings: (t, r) =>
    `${t}\n${Array.from({ length: 100 + r.int(200) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')}\n`,
  tabs: (t, r) => t.replace(/^ {2}/gm, () => (r.next() < 0.5 ? '\t' : '  ')),
  truncate: (t, r) => t.slice(0, r.int(t.length)),
  anchors: (t) => `base: &b {source: teacher}\n${t.replace('data:', 'data: *b\nignored:')}`,
  // The hostile ones.
  specialDataPath: (t, r, w) => {
    const path = JSON.stringify(pick(w.specialPaths, r));
    const key = pick(['path', 'test_path', 'train_images', 'train_labels'], r);
    const source = pick(['csv', 'idx', 'criteo', 'fashion-mnist'], r);
    return t.replace(/^data:\n(?: {2}.*\n)*/m, `data:\n  source: ${source}\n  ${key}: ${path}\n  classes: 2\n`);
  },
  specialModelPath: (t, r, w) =>
    t.replace(/^model:\n(?: {2}.*\n)*/m, `model:\n  kind: tfjs\n  path: ${JSON.stringify(pick(w.specialPaths, r))}\n`),
  specialOutputDir: (t, r, w) =>
    `${t.replace(/^output:\n(?: {2}.*\n)*/m, '')}\noutput:\n  dir: ${JSON.stringify(pick(w.specialPaths, r))}\n`,
  hugeSize: (t, r) =>
    t
      .replace(/(hidden|input_dim|batch_size|train_examples|test_examples|steps|block|min_blocks): .*/g, (m, key) =>
        r.next() < 0.5 ? `${String(key)}: ${pick(HUGE, r)}` : m,
      )
      .replace(
        /hidden: \[.*\]/,
        () => `hidden: [${Array.from({ length: 1 + r.int(4) }, () => pick(HUGE, r)).join(', ')}]`,
      ),
  manyUnknownKeys: (t, r) =>
    `${t}\n${Array.from({ length: 500 + r.int(3000) }, (_, i) => `unknown_${i % (400 + r.int(100))}: ${i}`).join('\n')}\n`,
  oddCharacters: (t, r) => {
    const at = r.int(t.length + 1);
    return (
      t.slice(0, at) +
      pick(['\u0000', '\uD800', '\uDFFF', '\uFFFD', '\uFEFF', '\r', '\u2028', '\u001b[2J'], r) +
      t.slice(at)
    );
  },
};

export interface FuzzedConfig {
  text: string;
  applied: string[];
  /** The file's bytes: UTF-8 mostly, sometimes another encoding or broken bytes. */
  bytes: Buffer;
  encoding: string;
}

const ENCODINGS: Record<string, (text: string, rng: Rng) => Buffer> = {
  utf8: (t) => Buffer.from(t, 'utf8'),
  'utf8-bom': (t) => Buffer.from(`\ufeff${t}`, 'utf8'),
  'utf16le-bom': (t) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]),
  utf16be: (t) => Buffer.from(t, 'utf16le').swap16(),
  latin1: (t) => Buffer.from(`# café\n${t}`, 'latin1'),
  'invalid-utf8': (t, r) => {
    const b = Buffer.from(t, 'utf8');
    const at = r.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), b.subarray(at)]);
  },
  'nul-bytes': (t, r) => {
    const b = Buffer.from(t, 'utf8');
    const at = r.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + r.int(8)), b.subarray(at)]);
  },
};

/** One fuzzed config: 1 to 3 mutations of `sample`, then an encoding (UTF-8 four times in five). */
export function fuzzConfig(sample: string, rng: Rng, workspace: FuzzWorkspace): FuzzedConfig {
  const names = Object.keys(MUTATIONS);
  const applied: string[] = [];
  let text = sample;
  for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
    const name = pick(names, rng);
    applied.push(name);
    text = MUTATIONS[name]!(text, rng, workspace);
  }
  const encoding = rng.next() < 0.8 ? 'utf8' : pick(Object.keys(ENCODINGS), rng);
  return { text, applied, bytes: ENCODINGS[encoding]!(text, rng), encoding };
}

/** What an editor shows for those bytes: UTF-8 where it decodes, else Latin-1 (every byte a character). */
export function editorText(config: FuzzedConfig): string {
  if (config.encoding === 'utf16le-bom') return config.text;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(config.bytes);
  } catch {
    return config.bytes.toString('latin1');
  }
}

export { Rng };
