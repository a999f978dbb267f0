/**
 * Seeded fuzzing of the language server: mutated samples (deleted, duplicated and swapped lines,
 * random bytes, huge numbers, deep nesting, tabs, a 1 MB file). After every edit the server must
 * publish diagnostics for that version and answer completion, hover, code actions and symbols.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../server/src/data/random';
import { sampleFiles } from '../helpers/experimentFixtures';
import { LspTestClient } from '../helpers/lspClient';

type Mutation = (text: string, rng: Rng) => string;

const lines = (text: string) => text.split('\n');
const pick = <T>(xs: T[], rng: Rng): T => xs[rng.int(xs.length)]!;

const MUTATIONS: Record<string, Mutation> = {
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
};

function mutate(text: string, rng: Rng): { text: string; applied: string[] } {
  const names = Object.keys(MUTATIONS);
  const applied: string[] = [];
  let out = text;
  for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
    const name = pick(names, rng);
    applied.push(name);
    out = MUTATIONS[name]!(out, rng);
  }
  return { text: out, applied };
}

describe('fuzz: the language server survives mutated experiment files', () => {
  const client = new LspTestClient();
  before(() => client.initialize());
  after(() => client.shutdown());

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 60 mutated edits, every one diagnosed and every request answered`, async () => {
      const rng = new Rng(seed);
      const samples = sampleFiles().map((f) => readFileSync(f, 'utf8'));
      const uri = `${pathToFileURL(sampleFiles()[0]!).href}?fuzz=${seed}`;
      await client.open(uri, samples[0]!);
      for (let edit = 0; edit < 60; edit++) {
        const { text, applied } = mutate(pick(samples, rng), rng);
        const diagnostics = await Promise.race([
          client.change(uri, text),
          new Promise<never>((_, reject) =>
            client.connection.onClose(() => reject(new Error(`server died after ${applied.join('+')}`))),
          ),
        ]);
        assert.ok(Array.isArray(diagnostics));
        const lineCount = text.split('\n').length;
        const position = { line: rng.int(lineCount), character: rng.int(40) };
        const range = { start: position, end: position };
        const answers = await Promise.all([
          client.request('textDocument/completion', { textDocument: { uri }, position }),
          client.request('textDocument/hover', { textDocument: { uri }, position }),
          client.request('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } }),
          client.request('textDocument/documentSymbol', { textDocument: { uri } }),
          client.request('textDocument/inlayHint', {
            textDocument: { uri },
            range: { start: { line: 0, character: 0 }, end: { line: lineCount, character: 0 } },
          }),
        ]);
        assert.equal(answers.length, 5, applied.join('+'));
      }
      assert.ok(client.alive);
    });
  }

  it('a 1 MB file is diagnosed and answered', async () => {
    const sample = readFileSync(sampleFiles()[0]!, 'utf8');
    const filler = Array.from({ length: 26_000 }, (_, i) => `# padding comment line ${i} ..........`).join('\n');
    const text = `${sample}${filler}\nunexpected: 1\n`;
    assert.ok(text.length > 1_000_000);
    const uri = `${pathToFileURL(sampleFiles()[0]!).href}?big`;
    const diagnostics = await client.open(uri, text);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['unknown-key'],
    );
    assert.ok(
      await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 2 } }),
    );
    assert.ok(client.alive);
    assert.equal(client.stderr, '');
  });
});
