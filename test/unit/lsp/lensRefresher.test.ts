import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { LensRefresher } from '../../../server/src/lsp/lensRefresher';

describe('LensRefresher', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('refreshes at once, and once more when nothing changed for settleMs', () => {
    let sent = 0;
    const lenses = new LensRefresher(() => sent++, 2_000);
    lenses.refresh();
    assert.equal(sent, 1);
    mock.timers.tick(1_999);
    assert.equal(sent, 1);
    mock.timers.tick(1);
    assert.equal(sent, 2);
    mock.timers.tick(10_000);
    assert.equal(sent, 2, 'one settled refresh, not a periodic one');
  });

  it('sends one settled refresh after a burst, settleMs after its last change', () => {
    let sent = 0;
    const lenses = new LensRefresher(() => sent++, 2_000);
    lenses.refresh(); // queued
    mock.timers.tick(10);
    lenses.refresh(); // running
    mock.timers.tick(600);
    lenses.refresh(); // the run folder is known
    assert.equal(sent, 3);
    mock.timers.tick(1_999);
    assert.equal(sent, 3);
    mock.timers.tick(1);
    assert.equal(sent, 4);
  });

  it('sends nothing more once disposed', () => {
    let sent = 0;
    const lenses = new LensRefresher(() => sent++, 2_000);
    lenses.refresh();
    lenses.dispose();
    mock.timers.tick(5_000);
    assert.equal(sent, 1);
  });
});
