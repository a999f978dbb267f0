/**
 * Drives fuzzed configs (configFuzz.ts) through `check` (in a child process, checkWorker.ts) and
 * through the language server (a real client): each config is written as a file, checked, then
 * sent to the server as the new text of an open document, whose diagnostics and answers to
 * completion, hover, code actions, symbols, inlay hints, code lenses and the schedule preview are
 * awaited. Every answer is timed; one that does not come within the deadline is a hang.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, type ResponseError } from 'vscode-jsonrpc/node';
import { editorText, fuzzConfig, pick, Rng, type FuzzWorkspace } from './configFuzz';
import { ROOT } from './experimentFixtures';
import type { LspTestClient } from './lspClient';

/** A JavaScript error's text inside a refusal: a bug caught and sent back, not a refusal. */
const JS_ERROR = /TypeError|RangeError|ReferenceError|Cannot read properties|is not a function|Maximum call stack/;

/** Past this an answer counts as a hang (and the process is replaced). */
const DEADLINE_MS = 15_000;

export interface FuzzReport {
  cases: number;
  /** Milliseconds per `check` of one file (in its process). */
  checkMs: number[];
  /** Milliseconds per language-server answer (diagnostics after a change, then each request). */
  lspMs: number[];
  /** Answers slower than `slowMs`: what, how long, which mutations. */
  slow: string[];
  /** Crashes, hangs and internal errors. */
  failures: string[];
  /** Diagnostic codes `check` reported, with how often. */
  codes: Map<string, number>;
}

class CheckProcess {
  private child!: ChildProcessWithoutNullStreams;
  private pending: ((line: string) => void) | null = null;

  constructor() {
    this.start();
  }

  private start(): void {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/checkWorker.ts')], { cwd: ROOT });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.pending?.(line));
  }

  /** The check of `file`, or a failure when it crashed or did not answer within the deadline. */
  check(file: string): Promise<{ ms: number; codes: string[] } | { failure: string }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.child.kill('SIGKILL');
        this.start();
        resolve({ failure: `check did not answer in ${DEADLINE_MS} ms` });
      }, DEADLINE_MS);
      const exited = () => {
        clearTimeout(timer);
        this.pending = null;
        this.start();
        resolve({ failure: 'check crashed' });
      };
      this.child.once('exit', exited);
      this.pending = (line) => {
        clearTimeout(timer);
        this.child.off('exit', exited);
        this.pending = null;
        resolve(JSON.parse(line) as { ms: number; codes: string[] });
      };
      this.child.stdin.write(`${file}\n`);
    });
  }

  dispose(): void {
    this.child.kill('SIGKILL');
  }
}

function timed<T>(what: string, promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  return Promise.race([
    promise.then(
      (value) => ({ ms: performance.now() - started, value }),
      (error: unknown) => ({ ms: performance.now() - started, error }),
    ),
    new Promise<{ ms: number; error: unknown }>((resolve) =>
      setTimeout(
        () => resolve({ ms: DEADLINE_MS, error: new Error(`${what}: no answer in ${DEADLINE_MS} ms`) }),
        DEADLINE_MS,
      ).unref(),
    ),
  ]);
}

export async function runFuzz(options: {
  seed: number;
  cases: number;
  samples: string[];
  workspace: FuzzWorkspace;
  client: LspTestClient;
  slowMs?: number;
  onProgress?: (done: number, report: FuzzReport) => void;
}): Promise<FuzzReport> {
  const { seed, cases, samples, workspace, client } = options;
  const slowMs = options.slowMs ?? 1000;
  const report: FuzzReport = { cases: 0, checkMs: [], lspMs: [], slow: [], failures: [], codes: new Map() };
  const rng = new Rng(seed);
  const file = join(workspace.dir, `fuzz-${seed}.prune.yaml`);
  const uri = pathToFileURL(file).href;
  const check = new CheckProcess();
  let opened = false;
  try {
    for (let n = 0; n < cases; n++) {
      const config = fuzzConfig(pick(samples, rng), rng, workspace);
      const label = `seed ${seed} case ${n} (${config.applied.join('+')}, ${config.encoding})`;
      writeFileSync(file, config.bytes);
      const checked = await check.check(file);
      if ('failure' in checked) report.failures.push(`${label}: ${checked.failure}`);
      else {
        report.checkMs.push(checked.ms);
        if (checked.ms > slowMs) report.slow.push(`${label}: check ${checked.ms.toFixed(0)} ms`);
        for (const code of checked.codes) report.codes.set(code, (report.codes.get(code) ?? 0) + 1);
      }

      const text = editorText(config);
      const diagnostics = await timed('diagnostics', opened ? client.change(uri, text) : client.open(uri, text));
      opened = true;
      const lineCount = text.split('\n').length;
      const position = { line: rng.int(lineCount), character: rng.int(60) };
      const range = {
        start: position,
        end: { line: Math.min(lineCount - 1, position.line + rng.int(5)), character: 0 },
      };
      const requests: [string, Promise<unknown>][] = [
        ['completion', client.request('textDocument/completion', { textDocument: { uri }, position })],
        ['hover', client.request('textDocument/hover', { textDocument: { uri }, position })],
        [
          'codeAction',
          client.request('textDocument/codeAction', {
            textDocument: { uri },
            range: { start: position, end: position },
            context: { diagnostics: Array.isArray(diagnostics.value) ? diagnostics.value : [] },
          }),
        ],
        ['documentSymbol', client.request('textDocument/documentSymbol', { textDocument: { uri } })],
        ['inlayHint', client.request('textDocument/inlayHint', { textDocument: { uri }, range })],
        ['codeLens', client.request('textDocument/codeLens', { textDocument: { uri } })],
        ['schedulePreview', client.request('sparsity/schedule/preview', { uri })],
      ];
      const answers = [
        ['diagnostics', diagnostics] as const,
        ...(await Promise.all(requests.map(async ([what, p]) => [what, await timed(what, p)] as const))),
      ];
      for (const [what, answer] of answers) {
        report.lspMs.push(answer.ms);
        if (answer.ms > slowMs) report.slow.push(`${label}: ${what} ${answer.ms.toFixed(0)} ms`);
        const error = answer.error as ResponseError<unknown> | Error | undefined;
        // Refusals are answers (an invalid position, a preview of a file with errors); an internal
        // error, a timeout or a dead server is not.
        const code = (error as ResponseError<unknown> | undefined)?.code;
        if (error && (code === undefined || code === ErrorCodes.InternalError || JS_ERROR.test(error.message)))
          report.failures.push(`${label}: ${what}: ${error.message}`);
      }
      if (!client.alive) {
        report.failures.push(`${label}: the language server died: ${client.stderr.slice(-500)}`);
        break;
      }
      report.cases++;
      options.onProgress?.(report.cases, report);
    }
  } finally {
    check.dispose();
  }
  return report;
}

/** `[p50, p99, max]` of a list of milliseconds. */
export function percentiles(ms: number[]): [number, number, number] {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return [at(0.5), at(0.99), sorted.at(-1) ?? 0];
}
