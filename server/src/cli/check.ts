/**
 * `sparsity-studio check FILE... [--format json]`: the editor's diagnostics on the command line.
 * JSON output is one array of `{file, line, column, endLine, endColumn, severity, code, message}`
 * with 1-based lines and columns; the exit code is 1 when any diagnostic is an error.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DIAGNOSTIC_SOURCE } from '../experiment/diagnostics';
import { nodeHost } from '../data/nodeHost';
import { validateExperiment } from '../experiment/validate';
import type { CliIo } from './io';

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

export const CHECK_USAGE = 'sparsity-studio check FILE... [--format text|json]';

export function checkFiles(files: string[]): CheckRecord[] {
  const records: CheckRecord[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
      records.push({
        file,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        severity: 'error',
        code: 'path-missing',
        message: `Cannot read ${file}: ${reason}.`,
      });
      continue;
    }
    const { diagnostics } = validateExperiment(text, nodeHost(dirname(resolve(file))));
    for (const d of diagnostics) {
      records.push({
        file,
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        endLine: d.range.end.line + 1,
        endColumn: d.range.end.character + 1,
        severity: d.severity,
        code: d.code,
        message: d.message,
      });
    }
  }
  return records;
}

export function checkCommand(args: string[], io: CliIo): number {
  let format: 'text' | 'json' = 'text';
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--format') {
      const value = args[++i];
      if (value !== 'text' && value !== 'json') {
        io.error(`--format must be text or json.\nusage: ${CHECK_USAGE}`);
        return 2;
      }
      format = value;
    } else if (arg.startsWith('--format=')) {
      const value = arg.slice('--format='.length);
      if (value !== 'text' && value !== 'json') {
        io.error(`--format must be text or json.\nusage: ${CHECK_USAGE}`);
        return 2;
      }
      format = value;
    } else if (arg.startsWith('-')) {
      io.error(`unknown option ${arg}\nusage: ${CHECK_USAGE}`);
      return 2;
    } else files.push(arg);
  }
  if (files.length === 0) {
    io.error(`no files given\nusage: ${CHECK_USAGE}`);
    return 2;
  }
  const records = checkFiles(files);
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
