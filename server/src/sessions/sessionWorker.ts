/**
 * One pruning session in a worker thread, so training never blocks the language server. Runs the
 * engine exactly as the CLI does and posts its run events to the manager in batches.
 */
import { parentPort } from 'node:worker_threads';
import type { RunEvent } from '@protocol';
import { resumeRun, runExperiment, type RunOptions } from '../runs/runExperiment';
import { Batcher } from './batcher';
import type { FromWorker, ToWorker } from './workerProtocol';

/**
 * Events go to the manager at most this often: one message per step (hundreds a second) cost the
 * training thread a structured clone each, and the manager batches for the client anyway (125 ms).
 */
const EVENT_BATCH_MS = 100;

const port = parentPort;
if (!port) throw new Error('sessionWorker.ts runs only as a worker thread');
const controller = new AbortController();
const post = (message: FromWorker) => port.postMessage(message);

// Timers fire when the trainer yields to the event loop (every 50 ms), so batches stay short.
const events = new Batcher<RunEvent>((batch) => post({ type: 'events', events: batch }), EVENT_BATCH_MS);

const options: RunOptions = {
  signal: controller.signal,
  onStart: (info, runDir) => post({ type: 'started', info, runDir }),
  onEvent: (event) => events.add(event),
  onActivity: (message) => post({ type: 'activity', message }),
};

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'stop':
      controller.abort();
      return;
    case 'start':
    case 'resume': {
      const withSearch = { ...options, ...(message.backendSearch && { backendSearch: message.backendSearch }) };
      const run =
        message.type === 'start'
          ? runExperiment(message.file, { ...withSearch, ...(message.steps !== undefined && { steps: message.steps }) })
          : resumeRun(message.runDir, withSearch);
      run.then(
        ({ info, dir }) => {
          events.flush();
          post({ type: 'done', info, runDir: dir });
        },
        (error: unknown) => {
          events.flush();
          post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        },
      );
      return;
    }
  }
});
