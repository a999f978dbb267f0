import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as protocol from '../../protocol/index';
import { liveEventsFor, parseWebviewMessage } from '../../client/src/dashboards/dashboardPanelMessages';
import { ROOT } from '../helpers/experimentFixtures';

describe('protocol/', () => {
  it('README documents every declared LSP message, and every method is declared once', () => {
    const readme = readFileSync(join(ROOT, 'protocol', 'README.md'), 'utf8');
    const methods = Object.values(protocol)
      .map((v) => (v as { method?: unknown }).method)
      .filter((m): m is string => typeof m === 'string');
    assert.ok(methods.length >= 12);
    assert.equal(new Set(methods).size, methods.length);
    for (const method of methods) assert.ok(readme.includes(`\`${method}\``), `${method} is in protocol/README.md`);
  });

  it('the host accepts only well-formed webview messages', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'requestSnapshot', step: 40 }), { type: 'requestSnapshot', step: 40 });
    for (const bad of [
      null,
      'ready',
      { type: 'eval', code: 'x' },
      { type: 'requestSnapshot', step: -1 },
      { type: 'requestSnapshot', step: 1.5 },
      { type: 'exportCsv', name: '../../etc/passwd', csv: 'a' },
      { type: 'exportCsv', name: 'ok', csv: 3 },
      { type: 'exportPng', name: 'ok', dataUrl: 'javascript:alert(1)' },
    ])
      assert.equal(parseWebviewMessage(bad), null, JSON.stringify(bad));
    assert.deepEqual(parseWebviewMessage({ type: 'exportCsv', name: 'sparsity-run_1', csv: 'step,loss\n' }), {
      type: 'exportCsv',
      name: 'sparsity-run_1',
      csv: 'step,loss\n',
    });
  });

  it('live events: the importance panel gets only snapshot events, the sparsity panel all of them', () => {
    const events = [
      { type: 'phase', step: 0, index: 0, kind: 'dense', label: 'warm-up', startStep: 0, endStep: 10 },
      { type: 'step', step: 5 },
      { type: 'snapshot', step: 5 },
      { type: 'eval', step: 5, metrics: { accuracy: 0.5 } },
    ] as unknown as Parameters<typeof liveEventsFor>[1];
    assert.deepEqual(
      liveEventsFor('importance', events).map((e) => e.type),
      ['snapshot'],
    );
    assert.deepEqual(liveEventsFor('sparsity', events), events);
  });
});
