import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applySweepParams,
  combinationCount,
  expandGrid,
  hasSweep,
  sweepAxes,
  sweepCombinationConfig,
  sweepRunFolderName,
} from '../../../server/src/experiment/sweep';
import { ExperimentDocument } from '../../../server/src/experiment/yamlDocument';

const FILE = `version: 1
name: grid
data: { source: teacher }
model: { kind: mlp, hidden: [32] }
pruning:
  method: sapp
  sparsity: 0.9
  schedule: { cycles: 3 }
sweep:
  pruning.sparsity: [0.5, 0.75, 0.9]
  pruning.method: [sapp, acdc]
  seed: [1, 2]
  slurm: { partition: gpu }
`;

describe('sweep grid', () => {
  const value = new ExperimentDocument(FILE).value;

  it('reads the axes in file order and leaves the slurm options out', () => {
    const axes = sweepAxes(value);
    assert.deepEqual(
      axes.map((a) => a.path),
      ['pruning.sparsity', 'pruning.method', 'seed'],
    );
    assert.equal(combinationCount(axes), 12);
    assert.equal(hasSweep(value), true);
    assert.equal(hasSweep({ version: 1 }), false);
    assert.deepEqual(sweepAxes({ sweep: { seed: [], 'pruning.block': 8 } }), [], 'empty lists and scalars are no axes');
  });

  it('expands the product with the first axis varying slowest', () => {
    const grid = expandGrid(sweepAxes(value));
    assert.equal(grid.length, 12);
    assert.deepEqual(grid[0], { 'pruning.sparsity': 0.5, 'pruning.method': 'sapp', seed: 1 });
    assert.deepEqual(grid[1], { 'pruning.sparsity': 0.5, 'pruning.method': 'sapp', seed: 2 });
    assert.deepEqual(grid[2], { 'pruning.sparsity': 0.5, 'pruning.method': 'acdc', seed: 1 });
    assert.deepEqual(grid[11], { 'pruning.sparsity': 0.9, 'pruning.method': 'acdc', seed: 2 });
    assert.equal(new Set(grid.map((g) => JSON.stringify(g))).size, 12, 'every combination once');
    assert.deepEqual(expandGrid([]), [], 'no axes: no runs');
  });

  it('applies a combination: replaces values, creates missing mappings, drops sweep, leaves the file alone', () => {
    const applied = applySweepParams(value, { 'pruning.sparsity': 0.75, 'training.steps': 50, 'model.hidden': [8, 8] });
    assert.equal((applied['pruning'] as Record<string, unknown>)['sparsity'], 0.75);
    assert.deepEqual(applied['training'], { steps: 50 });
    assert.deepEqual((applied['model'] as Record<string, unknown>)['hidden'], [8, 8]);
    assert.equal(applied['sweep'], undefined);
    assert.equal(((value as Record<string, unknown>)['pruning'] as Record<string, unknown>)['sparsity'], 0.9);
  });

  it('parses each combination with its own defaults, and names what makes one invalid', () => {
    const acdc = sweepCombinationConfig(value, { 'pruning.method': 'acdc', 'pruning.sparsity': 0.5, seed: 2 });
    assert.equal(acdc.pruning.method, 'acdc');
    assert.equal(acdc.seed, 2);
    assert.equal(acdc.pruning.method === 'acdc' && acdc.pruning.pruned_weights, 'zero', "acdc's own default");
    assert.throws(
      () => sweepCombinationConfig(value, { 'pruning.sparsity': 1.5 }),
      /pruning\.sparsity=1\.5 is not a valid experiment: pruning\.sparsity/,
    );
  });

  it('names run folders by index and values, unique and sorted', () => {
    assert.equal(
      sweepRunFolderName(3, 12, { 'pruning.sparsity': 0.9, 'pruning.method': 'sapp', seed: 2 }),
      '003_sparsity-0.9_method-sapp_seed-2',
    );
    assert.equal(sweepRunFolderName(7, 1500, { 'pruning.block': [8, 16] }), '0007_block-8x16');
    assert.equal(sweepRunFolderName(0, 2, { 'data.path': '../x y/z' }), '000_path-..xyz');
  });
});
