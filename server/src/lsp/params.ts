/**
 * Request parameters are input from outside: each handler takes what it needs through these
 * checks, and anything missing, of the wrong type or outside the document is an `InvalidParams`
 * error naming the field, not an internal TypeError or an answer about line 2147483648.
 * Characters past the end of a line are clamped to it, as LSP specifies.
 */
import { ErrorCodes, ResponseError, type Position, type Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';

export function invalidParams(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The params object itself. */
export function paramsOf(params: unknown, method: string): Record<string, unknown> {
  if (!isRecord(params)) throw invalidParams(`${method}: params must be an object`);
  return params;
}

export function stringParam(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value === '') throw invalidParams(`\`${name}\` must be a non-empty string`);
  return value;
}

export function optionalIntegerParam(params: Record<string, unknown>, name: string, min = 0): number | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < min)
    throw invalidParams(`\`${name}\` must be an integer of at least ${min}`);
  return value as number;
}

export function integerParam(params: Record<string, unknown>, name: string, min = 0): number {
  const value = optionalIntegerParam(params, name, min);
  if (value === undefined) throw invalidParams(`\`${name}\` is missing`);
  return value;
}

export function stringListParam(params: Record<string, unknown>, name: string): string[] {
  const value = params[name];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== ''))
    throw invalidParams(`\`${name}\` must be a list of strings`);
  return value as string[];
}

/** `textDocument.uri`. */
export function documentUri(params: Record<string, unknown>): string {
  const document = params['textDocument'];
  if (!isRecord(document) || typeof document['uri'] !== 'string')
    throw invalidParams('`textDocument.uri` must be a string');
  return document['uri'];
}

/** A position inside `doc` (a character past the end of its line is clamped to it). */
export function positionIn(doc: TextDocument, value: unknown, name = 'position'): Position {
  if (!isRecord(value)) throw invalidParams(`\`${name}\` must be a position`);
  const { line, character } = value;
  if (
    !Number.isSafeInteger(line) ||
    !Number.isSafeInteger(character) ||
    (line as number) < 0 ||
    (character as number) < 0
  )
    throw invalidParams(`\`${name}\` must have a line and a character that are integers of at least 0`);
  if ((line as number) >= doc.lineCount)
    throw invalidParams(`\`${name}.line\` ${String(line)} is past the document's last line (${doc.lineCount - 1})`);
  const lineEnd = doc.positionAt(doc.offsetAt({ line: line as number, character: Number.MAX_SAFE_INTEGER }));
  return { line: line as number, character: Math.min(character as number, lineEnd.character) };
}

/** A range inside `doc`, its end not before its start; an end past the last line is clamped to the end. */
export function rangeIn(doc: TextDocument, value: unknown, name = 'range'): Range {
  if (!isRecord(value)) throw invalidParams(`\`${name}\` must be a range`);
  const start = positionIn(doc, value['start'], `${name}.start`);
  const endValue = value['end'];
  const end =
    isRecord(endValue) && Number.isSafeInteger(endValue['line']) && (endValue['line'] as number) >= doc.lineCount
      ? doc.positionAt(doc.getText().length)
      : positionIn(doc, endValue, `${name}.end`);
  if (end.line < start.line || (end.line === start.line && end.character < start.character))
    throw invalidParams(`\`${name}\` ends before it starts`);
  return { start, end };
}
