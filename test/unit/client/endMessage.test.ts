// What the editor says when a session ends (client/src/endMessage.ts): the result with Open
// Dashboard / Compare with… on completion, the reason with Show Log on failure, nothing on a stop.
import type { SessionSummary } from '@protocol';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPARE_WITH, endMessage, OPEN_DASHBOARD, SHOW_LOG } from '../../../client/src/endMessage';
import { emptyProgress, progressAfter } from '../../../protocol/runHeadline';

const summary: SessionSummary = {
  sessionId: 'session-1',
  experimentUri: 'file:///w/fashion.prune.yaml',
  runDir: '/w/runs/fashion-mlp-sapp-90-sapp-s1-20261206-170502',
  name: 'fashion-mlp-sapp-90',
  method: 'sapp',
  state: 'completed',
  step: 3000,
  totalSteps: 3000,
  globalSparsity: 0.896,
  targetSparsity: 0.9,
  finalTargetSparsity: 0.9,
  backend: 'wasm',
  progress: progressAfter(emptyProgress(), [
    { type: 'eval', step: 2750, metrics: { loss: 0.48, accuracy: 0.8615 } },
    { type: 'eval', step: 3000, metrics: { loss: 0.53, accuracy: 0.866 } },
  ]),
};

describe('end-of-run notification', () => {
  it('a completed run: its result, then Open Dashboard and Compare with…', () => {
    assert.deepEqual(endMessage(summary), {
      text: 'Sparsity Studio: fashion-mlp-sapp-90 (sapp) completed — step 3000/3000 · accuracy 86.6% (best 86.6% at step 3000) · sparsity 89.6% (target 90% of blocks).',
      actions: [OPEN_DASHBOARD, COMPARE_WITH],
      error: false,
    });
  });

  it('a failed run: the reason, then Show Log', () => {
    const failed = endMessage({ ...summary, state: 'failed', step: 212, error: 'the loss became NaN at step 212' })!;
    assert.equal(
      failed.text,
      'Sparsity Studio: fashion-mlp-sapp-90 (sapp) failed at step 212: the loss became NaN at step 212',
    );
    assert.deepEqual(failed.actions, [SHOW_LOG, OPEN_DASHBOARD]);
    assert.equal(failed.error, true);
  });

  it('nothing for a run the user stopped, or one still going', () => {
    assert.equal(endMessage({ ...summary, state: 'cancelled' }), undefined);
    assert.equal(endMessage({ ...summary, state: 'running' }), undefined);
  });
});
