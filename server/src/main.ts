/**
 * The entry of dist/server.js. In the main thread it starts the language server; in a session
 * worker thread (started from this same file with `SESSION_WORKER_DATA`) it runs the session
 * worker; started as `node dist/server.js --cli ARGS...` it is the CLI (each run of a sweep from
 * the editor is `--cli run --sweep-task ...`, and the .vsix ships no dist/cli.js). One bundle for
 * all, so TF.js and the engine ship once in the .vsix instead of twice. The dynamic imports are
 * bundled and evaluated lazily: each process or thread runs only its own part.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { CLI_ROLE_FLAG } from './sessions/cliRole';
import { isSessionWorkerData } from './sessions/workerProtocol';

const role =
  !isMainThread && isSessionWorkerData(workerData)
    ? import('./sessions/sessionWorker')
    : isMainThread && process.argv[2] === CLI_ROLE_FLAG
      ? import('./cli').then((cli) => cli.runCli(process.argv.slice(3)))
      : import('./server');
role.catch((error: unknown) => {
  process.stderr.write(
    `sparsity-studio server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
