import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunEvent, RunInfo } from '@protocol';
import { main } from '../../server/src/cli';
import { REPORT_CSP } from '../../server/src/runs/htmlReport';
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

  it('a crafted run folder cannot inject markup into the report: every field is escaped, under a strict CSP', async () => {
    const file = join(dir, 'x.prune.yaml');
    writeFileSync(
      file,
      'version: 1\nname: x\nbackend: wasm\ndata:\n  source: teacher\n  input_dim: 16\n  hidden: 16\n  train_examples: 128\n  test_examples: 32\n  batch_size: 32\nmodel:\n  kind: mlp\n  hidden: [16]\ntraining:\n  steps: 20\npruning:\n  method: sapp\n  sparsity: 0.5\n  block: 4\n  min_blocks: 4\n  layers: [dense_1]\noutput:\n  dir: runs\n',
    );
    const { dir: runDir } = await runExperiment(file);
    const evil = `"'><form action="https://evil.example/"><input name=p><a href="https://evil.example/">x</a><script>alert(1)</script><img src=x onerror=alert(1)><style>*{}</style>`;
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    info.name = evil;
    info.id = evil;
    info.status = 'failed';
    info.error = { message: evil };
    info.backend.attempts = info.backend.attempts.map((a) => ({ ...a, used: false, reason: evil }));
    info.final!.sparsity.layers = info.final!.sparsity.layers.map((l) => ({ ...l, name: evil }));
    writeFileSync(join(runDir, 'run.json'), JSON.stringify(info));
    const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent)
      .map((e) =>
        e.type === 'phase'
          ? { ...e, label: evil }
          : e.type === 'snapshot'
            ? { ...e, layers: e.layers.map((l) => ({ ...l, name: evil })) }
            : e,
      );
    writeFileSync(join(runDir, 'metrics.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);

    const r = await cli(['report', runDir]);
    assert.equal(r.code, 0, r.err);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    assert.ok(html.includes('&lt;form action=&quot;https://evil.example/&quot;&gt;'), 'the text is shown, escaped');
    for (const tag of ['<form', '<input', '<a ', '<script', '<img', '<style>*', "'>"])
      assert.ok(!html.includes(tag), `raw ${tag} in the report`);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    assert.equal(csp, REPORT_CSP);
    for (const directive of ["default-src 'none'", "form-action 'none'", "base-uri 'none'", "img-src 'none'"])
      assert.ok(csp.includes(directive), directive);

    // Numbers and choices that are not (`keptBlocks`, the snapshot's score) never reach the page.
    const layers = info.final!.sparsity.layers as unknown as Record<string, unknown>[];
    layers[0]!['keptBlocks'] = '<form action="https://evil.example/">';
    writeFileSync(join(runDir, 'run.json'), JSON.stringify(info));
    const refused = await cli(['report', runDir]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /run\.json: final\.sparsity\.layers\[0\]\.keptBlocks expected number/);
  });

  it('report and compare refuse bad folders and unwritable outputs with one line, no stack trace', async () => {
    const file = join(dir, 'r.prune.yaml');
    const { dir: runDir } = await runExperiment(file, { steps: 20 });
    const unwritable = await cli(['report', runDir, '--out', '/nonexistent/x.html']);
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.err, /^sparsity-studio report: cannot write \/nonexistent\/x\.html: ENOENT[^\n]*$/);
    const empty = join(dir, 'empty-run');
    mkdirSync(empty);
    writeFileSync(join(empty, 'run.json'), '{}');
    for (const args of [
      ['report', empty],
      ['compare', empty, runDir],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1);
      assert.match(r.err, /^sparsity-studio (report|compare): .*empty-run\/run\.json: format expected 1/);
      assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
    }
  });
});
