/**
 * One pruning session in a worker thread, so training never blocks the language server. Runs the
 * engine exactly as the CLI does and posts every run event to the manager.
 */
import { parentPort } from 'node:worker_threads';
import { resumeRun, runExperiment, type RunOptions } from '../engine/runExperiment';
import type { FromWorker, ToWorker } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('sessionWorker.ts runs only as a worker thread');
const controller = new AbortController();
const post = (message: FromWorker) => port.postMessage(message);

const options: RunOptions = {
  signal: controller.signal,
  onStart: (info, runDir) => post({ type: 'started', info, runDir }),
  onEvent: (event, info) => post({ type: 'event', event, info }),
};

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'stop':
      controller.abort();
      return;
    case 'start':
    case 'resume': {
      const run =
        message.type === 'start'
          ? runExperiment(message.file, { ...options, ...(message.steps !== undefined && { steps: message.steps }) })
          : resumeRun(message.runDir, options);
      run.then(
        ({ info, dir }) => post({ type: 'done', info, runDir: dir }),
        (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
  }
});
