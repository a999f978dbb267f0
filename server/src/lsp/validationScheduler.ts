/**
 * Validates open documents after edits and keeps the latest result per document, which completion,
 * hover, code actions and inlay hints read. The debounce adapts to the cost of validation: a
 * file that validates in 2 ms gets its diagnostics on the next turn of the event loop, a slow one
 * waits twice its last validation time (up to 250 ms), so fast typing never queues work.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ExperimentHost } from '../experiment/experimentHost';
import { validateExperiment, type ValidationResult } from '../experiment/validate';

const MAX_DELAY_MS = 250;

interface Entry {
  version: number;
  result: ValidationResult;
}

export class ValidationScheduler {
  private readonly results = new Map<string, Entry>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly costMs = new Map<string, number>();

  constructor(
    private readonly hostFor: (uri: string) => ExperimentHost,
    private readonly publish: (uri: string, version: number, result: ValidationResult) => void,
  ) {}

  /** The result for this exact version, validating now if needed (requests never see stale text). */
  resultFor(document: TextDocument): ValidationResult {
    const cached = this.results.get(document.uri);
    if (cached && cached.version === document.version) return cached.result;
    return this.validateNow(document);
  }

  schedule(document: TextDocument): void {
    clearTimeout(this.timers.get(document.uri));
    const delay = Math.min(MAX_DELAY_MS, 2 * (this.costMs.get(document.uri) ?? 0));
    const run = () => {
      this.timers.delete(document.uri);
      const result = this.resultFor(document);
      this.publish(document.uri, document.version, result);
    };
    this.timers.set(document.uri, delay < 1 ? setTimeout(run, 0) : setTimeout(run, delay));
  }

  forget(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.results.delete(uri);
    this.costMs.delete(uri);
  }

  /** Data files the open experiments name that did not exist when they were last checked. */
  missingDataFiles(): string[] {
    return [...this.results.values()].flatMap(({ result }) => result.analysis?.data.missing.map((m) => m.file) ?? []);
  }

  /** Drops cached results (files on disk changed): every open document is validated again. */
  invalidateAll(documents: readonly TextDocument[]): void {
    this.results.clear();
    documents.forEach((d) => this.schedule(d));
  }

  private validateNow(document: TextDocument): ValidationResult {
    const started = performance.now();
    const result = validateExperiment(document.getText(), this.hostFor(document.uri));
    this.costMs.set(document.uri, performance.now() - started);
    this.results.set(document.uri, { version: document.version, result });
    return result;
  }
}
