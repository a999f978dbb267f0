import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as protocol from '../../protocol/index';
import type { DashboardKind } from '../../protocol/index';
import type { RunEvent } from '../../protocol/index';
import { LiveEventRelay, parsePanelMessage } from '../../client/src/dashboards/dashboardPanelMessages';
import { ROOT } from '../helpers/experimentFixtures';

/** What each panel sends its host. */
const SENDS: Record<DashboardKind, string[]> = {
  run: ['ready', 'requestSnapshot', 'exportCsv', 'exportPng'],
  schedule: ['ready', 'exportCsv', 'exportPng'],
  compare: ['ready', 'exportCsv', 'exportPng'],
  sweep: ['ready', 'exportCsv', 'exportPng'],
};
const KINDS = Object.keys(SENDS) as DashboardKind[];

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
    assert.deepEqual(parsePanelMessage('run', { type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parsePanelMessage('run', { type: 'requestSnapshot', step: 40 }), {
      type: 'requestSnapshot',
      step: 40,
    });
    for (const bad of [
      null,
      'ready',
      { type: 'eval', code: 'x' },
      { type: 'requestSnapshot', step: -1 },
      { type: 'requestSnapshot', step: 1.5 },
      { type: 'exportCsv', name: '../../etc/passwd', csv: 'a' },
      { type: 'exportCsv', name: 'ok', csv: 3 },
      { type: 'exportPng', name: 'ok', dataUrl: 'javascript:alert(1)' },
      { type: 'toString' },
      { type: '__proto__' },
      { type: 'hasOwnProperty' },
    ])
      for (const kind of KINDS) assert.equal(parsePanelMessage(kind, bad), null, `${kind}: ${JSON.stringify(bad)}`);
    assert.deepEqual(parsePanelMessage('compare', { type: 'exportCsv', name: 'sparsity-run_1', csv: 'step,loss\n' }), {
      type: 'exportCsv',
      name: 'sparsity-run_1',
      csv: 'step,loss\n',
    });
  });

  it("each panel's messages are accepted from that panel only", () => {
    const messages = {
      ready: { type: 'ready' },
      requestSnapshot: { type: 'requestSnapshot', step: 40 },
      exportCsv: { type: 'exportCsv', name: 'run.csv', csv: 'step\n' },
      exportPng: { type: 'exportPng', name: 'run.png', dataUrl: 'data:image/png;base64,AAAA' },
    };
    for (const kind of KINDS)
      for (const [type, message] of Object.entries(messages))
        assert.deepEqual(
          parsePanelMessage(kind, message),
          SENDS[kind].includes(type) ? message : null,
          `${kind} sends ${type}: ${SENDS[kind].includes(type)}`,
        );
  });

  it('a run panel is posted its live events together, at most once per interval, in order', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const step = (n: number) => ({ type: 'step', step: n }) as unknown as RunEvent;
    const posted: number[][] = [];
    const postedAt: number[] = [];
    const relay = new LiveEventRelay(
      (events) => (posted.push(events.map((e) => e.step)), postedAt.push(performance.now())),
      400,
    );
    relay.push([step(0), step(1)]);
    await sleep(20);
    assert.deepEqual(posted, [[0, 1]], 'the first batch goes at once');
    relay.push([step(2)]);
    relay.push([step(3), step(4)]);
    await sleep(20);
    assert.equal(posted.length, 1, 'later batches wait out the interval');
    await sleep(450);
    assert.ok(postedAt[1]! - postedAt[0]! >= 395, `posts ${postedAt[1]! - postedAt[0]!} ms apart`);
    assert.deepEqual(
      posted,
      [
        [0, 1],
        [2, 3, 4],
      ],
      'then go as one message',
    );
    relay.push([step(5)]);
    relay.flush();
    assert.deepEqual(posted.at(-1), [5], 'flush posts at once');
    relay.push([step(6)]);
    relay.dispose();
    await sleep(450);
    assert.equal(posted.length, 3, 'nothing is posted after dispose');
  });
});
