/**
 * `sparsity-studio check FILE... [--format json]`: the editor's diagnostics on the command line.
 * JSON output is one array of `{file, line, column, endLine, endColumn, severity, code, message}`
 * with 1-based lines and columns; the exit code is 1 when any diagnostic is an error. `-` reads
 * an experiment from standard input (relative paths in it start at the working directory).
 */
import { dirname, resolve } from 'node:path';
import { DIAGNOSTIC_SOURCE } from '../experiment/diagnostics';
import { nodeHost, readExperimentText } from '../data/nodeHost';
import { validateExperiment } from '../experiment/validate';
import type { ExperimentDiagnostic } from '../experiment/diagnostics';
import { UsageError, type CommandSpec } from './args';
import { processIo, type CliIo, type ParsedCommand } from './io';

export interface CheckRecord {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning' | 'information' | 'hint';
  code: string;
  message: string;
}

export const CHECK: CommandSpec = {
  name: 'check',
  summary: 'Validate experiment files and print their diagnostics (the same as the editor shows).',
  positionals: { names: 'FILE...', min: 1, max: Infinity },
  options: {
    format: {
      type: 'string',
      choices: ['text', 'json'],
      description: 'text (default): one line per diagnostic; json: one array of records.',
    },
  },
  notes: [
    'FILE - reads one experiment from standard input; its relative paths start at the working directory.',
    'exit status: 0 no errors (warnings allowed), 1 an error in some file, 2 bad usage.',
  ],
};

/** What `-` names in the output. */
export const STDIN_NAME = '<stdin>';

/** The diagnostics of `files`; `stdin` is the text `-` stands for. */
export function checkFiles(files: string[], stdin?: string): CheckRecord[] {
  const records: CheckRecord[] = [];
  for (const file of files) {
    if (file === '-' && stdin !== undefined) {
      records.push(...toRecords(STDIN_NAME, validateExperiment(stdin, nodeHost(process.cwd())).diagnostics));
      continue;
    }
    const read = readExperimentText(file);
    if ('problem' in read) {
      records.push({ file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', ...read.problem });
      continue;
    }
    records.push(...toRecords(file, validateExperiment(read.text, nodeHost(dirname(resolve(file)))).diagnostics));
  }
  return records;
}

function toRecords(file: string, diagnostics: ExperimentDiagnostic[]): CheckRecord[] {
  return diagnostics.map((d) => ({
    file,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    endLine: d.range.end.line + 1,
    endColumn: d.range.end.character + 1,
    severity: d.severity,
    code: d.code,
    message: d.message,
  }));
}

export async function checkCommand({ options, positionals: files }: ParsedCommand, io: CliIo): Promise<number> {
  const format = options['format'] === 'json' ? 'json' : 'text';
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('standard input (-) can be read once');
  const stdin = files.includes('-') ? await (io.readStdin ?? processIo.readStdin)() : undefined;
  const records = checkFiles(files, stdin);
  if (format === 'json') io.out(JSON.stringify(records, null, 2));
  else {
    for (const r of records) io.out(`${r.file}:${r.line}:${r.column}: ${r.severity} [${r.code}] ${r.message}`);
    const count = (s: CheckRecord['severity']) => records.filter((r) => r.severity === s).length;
    const clean = files.length - new Set(records.map((r) => r.file)).size;
    io.out(
      `${DIAGNOSTIC_SOURCE}: ${files.length} file${files.length === 1 ? '' : 's'} checked, ${clean} clean; ${count('error')} error(s), ${count('warning')} warning(s), ${count('information') + count('hint')} note(s).`,
    );
  }
  return records.some((r) => r.severity === 'error') ? 1 : 0;
}
