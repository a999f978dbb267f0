/**
 * The entry of dist/server.js. In the main thread it starts the language server; in a session
 * worker thread (started from this same file with `SESSION_WORKER_DATA`) it runs the session
 * worker. One bundle for both, so TF.js and the engine ship once in the .vsix instead of twice.
 * The dynamic imports are bundled and evaluated lazily: each thread runs only its own part.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { isSessionWorkerData } from './sessions/workerProtocol';

const role = !isMainThread && isSessionWorkerData(workerData) ? import('./sessions/sessionWorker') : import('./server');
role.catch((error: unknown) => {
  process.stderr.write(
    `sparsity-studio server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
