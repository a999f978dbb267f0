import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../server/src/cli';
import { runExperiment } from '../../server/src/runs/runExperiment';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('report and compare', () => {
  it('report writes self-contained HTML with the curves and one heatmap cell per block, marked kept or pruned', async () => {
    const file = join(dir, 'r.prune.yaml');
    writeFileSync(
      file,
      'version: 1\nname: r\nbackend: wasm\ndata:\n  source: teacher\n  input_dim: 64\n  hidden: 64\n  train_examples: 1000\n  test_examples: 200\n  batch_size: 50\nmodel:\n  kind: mlp\n  hidden: [64]\ntraining:\n  steps: 120\n  eval_every: 40\npruning:\n  method: acdc\n  sparsity: 0.75\n  block: 8\n  min_blocks: 16\n  layers: [dense_1]\noutput:\n  dir: runs\n',
    );
    const a = await runExperiment(file);
    const b = await runExperiment(file, { steps: 60 });
    const r = await cli(['report', a.dir]);
    assert.equal(r.code, 0);
    const html = readFileSync(join(a.dir, 'report.html'), 'utf8');
    assert.ok(!/<script|src=|href=/i.test(html), 'no scripts or external resources');
    assert.match(html, /Content-Security-Policy/);
    assert.equal((html.match(/<polyline/g) ?? []).length, 4, 'loss, sparsity, target and accuracy curves');
    assert.equal((html.match(/ kept<\/title>/g) ?? []).length, 16);
    assert.equal((html.match(/ pruned<\/title>/g) ?? []).length, 48);

    const c = await cli(['compare', '--format', 'json', a.dir, b.dir]);
    assert.equal(c.code, 0);
    const rows = JSON.parse(c.out) as { run: string; steps: number; method: string; global_sparsity: number }[];
    assert.deepEqual(
      rows.map((x) => [x.method, x.steps]),
      [
        ['acdc', 120],
        ['acdc', 60],
      ],
    );
    assert.ok(rows.every((x) => x.global_sparsity > 0.5));
    const text = await cli(['compare', a.dir, b.dir]);
    assert.match(text.out.split('\n')[0]!, /^run\s+method\s+seed\s+status/);
    // Every --format choice is honoured: CSV with raw numbers, the panel's Markdown; others refused.
    const csv = (await cli(['compare', '--format=csv', a.dir, b.dir])).out.split('\n');
    assert.equal(csv.length, 3);
    assert.deepEqual(csv[0]!.split(','), Object.keys(rows[0]!));
    assert.equal(csv[2]!.split(',')[csv[0]!.split(',').indexOf('steps')], '60');
    const markdown = await cli(['compare', '--format', 'markdown', a.dir, b.dir]);
    assert.match(markdown.out, /^# Comparison of 2 runs\n\n\| run \| method \|/);
    assert.match(markdown.out, /## Config differences/);
    const xml = await cli(['compare', '--format', 'xml', a.dir, b.dir]);
    assert.equal(xml.code, 2);
    assert.match(xml.err, /--format must be one of text, json, csv, markdown, not "xml"/);
    assert.equal((await cli(['report', join(dir, 'nope')])).code, 1);
  });
});
