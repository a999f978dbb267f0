import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../../server/src/cli';
import { BROKEN_DIR, brokenFixtures, sampleFiles } from '../../helpers/experimentFixtures';

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sparsity-studio check', () => {
  it('exits 0 on the samples and says they are clean', async () => {
    const files = sampleFiles();
    const r = await run(['check', ...files]);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`${files.length} files checked, ${files.length} clean; 0 error`));
  });

  it('prints the JSON records the README documents, with 1-based positions, and exits 1 on errors', async () => {
    const files = brokenFixtures();
    const r = await run(['check', '--format', 'json', ...files.map((f) => f.path)]);
    assert.equal(r.code, 1);
    const records = JSON.parse(r.out) as Record<string, unknown>[];
    for (const record of records)
      assert.deepEqual(Object.keys(record).sort(), [
        'code',
        'column',
        'endColumn',
        'endLine',
        'file',
        'line',
        'message',
        'severity',
      ]);
    const got = records
      .map(
        (x) =>
          `${String(x.file)} ${String(x.code)} ${String(x.line)}:${String(x.column)}-${String(x.endLine)}:${String(x.endColumn)}`,
      )
      .sort();
    const want = files.flatMap((f) => f.expected.map((e) => `${f.path} ${e.code} ${e.range}`)).sort();
    assert.deepEqual(got, want);
  });

  it('exits 0 when a file has only warnings', async () => {
    const r = await run(['check', join(BROKEN_DIR, 'phase-too-short.prune.yaml')]);
    assert.equal(r.code, 0);
    assert.match(r.out, /phase-too-short.prune.yaml:11:10: warning \[phase-too-short\]/);
  });

  it('reports a missing file as an error record, and bad usage with exit 2', async () => {
    const missing = await run(['check', '--format=json', 'nope.prune.yaml']);
    assert.equal(missing.code, 1);
    assert.match(
      (JSON.parse(missing.out) as { message: string }[])[0]!.message,
      /Cannot read nope.prune.yaml: file not found/,
    );
    assert.equal((await run(['check'])).code, 2);
    assert.equal((await run(['check', '--format', 'xml', 'a'])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
  });

  it('reports a UTF-16 or binary file as an encoding error at 1:1, not as YAML or schema errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparsity-encoding-'));
    try {
      const sample = readFileSync(sampleFiles()[0]!, 'utf8');
      const bom16le = join(dir, 'bom.prune.yaml');
      writeFileSync(bom16le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(sample, 'utf16le')]));
      const bare16be = join(dir, 'bare.prune.yaml');
      writeFileSync(bare16be, Buffer.from(sample, 'utf16le').swap16());
      const latin1 = join(dir, 'latin1.prune.yaml');
      writeFileSync(latin1, Buffer.from(`# caf\u00e9\n${sample}`, 'latin1'));
      const bom8 = join(dir, 'bom8.prune.yaml');
      writeFileSync(bom8, `\ufeff${sample}`);
      const r = await run(['check', '--format', 'json', bom16le, bare16be, latin1, bom8]);
      const records = JSON.parse(r.out) as { file: string; code: string; line: number; message: string }[];
      assert.deepEqual(
        records.map((x) => [x.file, x.code, x.line]),
        [bom16le, bare16be, latin1].map((f) => [f, 'bad-encoding', 1]),
        'one encoding error per file, and the UTF-8 file with a BOM is clean',
      );
      assert.match(records[0]!.message, /UTF-16.*save it as UTF-8/);
      assert.match(records[1]!.message, /NUL byte/);
      assert.match(records[2]!.message, /not valid UTF-8/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
