/**
 * Sizes that pass the schema but cannot fit: the model-aware checks estimate parameter, activation
 * and data memory from shapes, and warn or refuse against the machine's memory (and the 4 GiB the
 * wasm backend can address); `run` then refuses before allocating anything.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../server/src/cli';
import { nodeHost } from '../../../server/src/data/nodeHost';
import { validateExperiment } from '../../../server/src/experiment/validate';
import { rangeText } from '../../helpers/experimentFixtures';

const GiB = 2 ** 30;
const dir = mkdtempSync(join(tmpdir(), 'sparsity-memory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const experiment = (body: string, backend = 'auto') =>
  `version: 1\nname: memory\nbackend: ${backend}\n${body}\ntraining:\n  steps: 100\npruning:\n  method: sapp\n  sparsity: 0.5\n  block: 8\n`;
const teacherMlp = (inputDim: number, hidden: number[], teacherHidden = 128) =>
  `data:\n  source: teacher\n  input_dim: ${inputDim}\n  hidden: ${teacherHidden}\nmodel:\n  kind: mlp\n  hidden: [${hidden.join(', ')}]`;

function check(text: string, machineGiB: number | null) {
  const host = { ...nodeHost(dir), memoryBytes: machineGiB === null ? null : machineGiB * GiB };
  const result = validateExperiment(text, host);
  const memory = result.diagnostics.filter((d) => d.code === 'memory-estimate');
  return { result, memory, where: memory.map((d) => `${d.severity} ${rangeText(d.range)}`) };
}

describe('memory estimates', () => {
  it('counts parameters with their gradients, Adam moments and masked copies, and the examples held', () => {
    const { result } = check(experiment(teacherMlp(784, [512, 256])), 16);
    const estimate = result.analysis!.memory.estimate!;
    const params = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10;
    assert.equal(estimate.parameters, params * 4 * 6);
    // 20,000 + 5,000 teacher examples of 784 floats and a label, and the teacher's weights.
    assert.equal(estimate.dataset, (784 * 128 + 128 * 10 + 784) * 4 + 25_000 * 785 * 4);
    assert.ok(
      estimate.activations > 0 && estimate.total === estimate.parameters + estimate.activations + estimate.dataset,
    );
  });

  it('refuses three 65536-wide layers, at model.hidden, against the machine', () => {
    const { where, memory } = check(experiment(teacherMlp(784, [65536, 65536, 65536])), 64);
    assert.deepEqual(where, ['error 10:3-10:9']);
    assert.match(memory[0]!.message, /needs about \d+\.\d GiB .*more than this machine's 64\.0 GiB/);
  });

  it('refuses a teacher of 100000 x 100000, at data, where the memory goes', () => {
    const { where, memory } = check(experiment(teacherMlp(100_000, [8], 100_000)), 32);
    assert.deepEqual(where, ['error 4:1-4:5']);
    assert.match(memory[0]!.message, /data \d+\.\d GiB/);
  });

  it('on wasm, refuses tensors beyond the 4 GiB it can address even on a large machine; auto only warns', () => {
    const big = teacherMlp(64, [32768, 16384]);
    assert.deepEqual(check(experiment(big, 'wasm'), 1024).where, ['error 10:3-10:9']);
    assert.deepEqual(check(experiment(big, 'auto'), 1024).where, ['warning 10:3-10:9']);
    assert.deepEqual(check(experiment(big, 'cpu'), 1024).where, []);
  });

  it('warns above half of the machine, and says nothing for ordinary runs', () => {
    const { where } = check(experiment(teacherMlp(784, [8192, 8192])), 2);
    assert.deepEqual(where, ['warning 10:3-10:9']);
    assert.deepEqual(check(experiment(teacherMlp(784, [512, 256])), 2).where, []);
    assert.deepEqual(check(experiment(teacherMlp(784, [512, 256])), null).where, []);
  });

  it('run refuses a file that cannot fit before creating a run folder or allocating', async () => {
    const file = join(dir, 'huge.prune.yaml');
    writeFileSync(file, experiment(teacherMlp(100_000, [65536, 65536]), 'wasm'));
    const err: string[] = [];
    const code = await main(['run', file, '--out', join(dir, 'runs')], {
      out: () => undefined,
      error: (l) => err.push(l),
    });
    assert.equal(code, 1);
    assert.match(err.join('\n'), /huge\.prune\.yaml:\d+:\d+: error \[memory-estimate\] A run needs about/);
    assert.equal(existsSync(join(dir, 'runs')), false);
  });
});
