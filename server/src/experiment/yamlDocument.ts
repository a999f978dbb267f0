/**
 * An experiment file parsed with positions: the YAML AST (from the `yaml` package, which keeps
 * going after syntax errors), its best-effort JS value, and lookups between config paths and text
 * ranges. Positions are 0-based lines and UTF-16 columns, like LSP, but this module imports no LSP.
 */
import { isMap, isPair, isScalar, isSeq, parseDocument, Scalar, type Document, type Node, type Pair } from 'yaml';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type ConfigPath = (string | number)[];

/** Offsets <-> positions over one text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  get lineCount(): number {
    return this.starts.length;
  }

  positionAt(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: clamped - this.starts[lo]! };
  }

  offsetAt(position: Position): number {
    if (position.line >= this.starts.length) return this.text.length;
    const start = this.starts[Math.max(0, position.line)]!;
    const next = this.starts[position.line + 1] ?? this.text.length + 1;
    return Math.min(start + Math.max(0, position.character), next - 1, this.text.length);
  }

  range(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }

  lineText(line: number): string {
    const start = this.starts[line] ?? this.text.length;
    const end = this.starts[line + 1] ?? this.text.length + 1;
    return this.text.slice(start, end - 1).replace(/\r$/, '');
  }
}

export interface SyntaxProblem {
  code: string;
  message: string;
  start: number;
  end: number;
}

/** Where one config path sits in the text. */
export interface NodeLocation {
  /** The key of the pair (absent for sequence items and the root). */
  key?: { start: number; end: number };
  /** The value (absent for `key:` with nothing after it). */
  value?: { start: number; end: number };
  node?: Node;
}

export class ExperimentDocument {
  readonly lines: LineIndex;
  readonly yaml: Document.Parsed;
  /** The JS value of the document as far as it parses (null for an empty file). */
  readonly value: unknown;
  readonly syntaxProblems: SyntaxProblem[];

  constructor(readonly text: string) {
    this.lines = new LineIndex(text);
    // Duplicate keys are found below with a set per mapping: the parser's own check compares each
    // key with every earlier one, and a file with 10k keys took seconds.
    // The parser makes an Error per syntax problem; without stack traces a file with thousands of
    // them parses in a fraction of the time (their stacks are never shown).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.yaml = parseDocument(text, { prettyErrors: false, uniqueKeys: false, strict: true });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.syntaxProblems = this.yaml.errors.map((e) => ({
      code: e.code,
      message: e.message.split('\n')[0] ?? e.message,
      start: e.pos[0],
      end: Math.max(e.pos[1], e.pos[0] + 1),
    }));
    this.syntaxProblems.push(...duplicateKeys(this.yaml.contents), ...replaceComplexKeys(this.yaml.contents));
    let value: unknown = null;
    try {
      value = this.yaml.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // Alias bombs and broken anchors: report them, check nothing else.
      this.syntaxProblems.push({ code: 'BAD_ALIAS', message: String(error), start: 0, end: 1 });
    }
    this.value = value ?? null;
  }

  range(span: { start: number; end: number }): Range {
    return this.lines.range(span.start, span.end);
  }

  /** Each mapping's pairs by key (the first of duplicates), built on first use: `locate` is O(depth). */
  private readonly pairsByKey = new WeakMap<object, Map<string, Pair>>();

  private pairOf(map: { items: Pair[] }, key: string): Pair | undefined {
    let index = this.pairsByKey.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items)
        if (isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
      this.pairsByKey.set(map, index);
    }
    return index.get(key);
  }

  /** The location of a config path, or undefined when the file does not contain it. */
  locate(path: ConfigPath): NodeLocation | undefined {
    return this.locateFrom(this.yaml.contents, path);
  }

  /** The location of `path` relative to a node of this document (a sweep item stands for its key). */
  locateFrom(start: unknown, path: ConfigPath): NodeLocation | undefined {
    let node: unknown = start;
    let location: NodeLocation = { value: nodeSpan(node), node: node as Node };
    for (const segment of path) {
      if (isMap(node)) {
        const pair = this.pairOf(node as { items: Pair[] }, String(segment));
        if (!pair) return undefined;
        location = pairLocation(pair);
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        if (item === undefined) return undefined;
        location = { value: nodeSpan(item), node: item as Node };
        node = item;
      } else return undefined;
    }
    return location;
  }

  /** The key's span when there is one, else the value's: where a diagnostic about `path` goes. */
  spanOf(path: ConfigPath, prefer: 'key' | 'value' = 'key'): { start: number; end: number } {
    for (let n = path.length; n >= 0; n--) {
      const loc = this.locate(path.slice(0, n));
      if (!loc) continue;
      // An ancestor stands in for a missing path by its key, never by its whole value.
      const first = prefer === 'value' && n === path.length ? (loc.value ?? loc.key) : (loc.key ?? loc.value);
      if (first) return first;
    }
    return { start: 0, end: Math.min(1, this.text.length) };
  }

  /** The innermost pair or item at an offset: its path and whether the offset is on the key. */
  pathAt(offset: number): { path: ConfigPath; onKey: boolean } | undefined {
    let found: { path: ConfigPath; onKey: boolean } | undefined;
    const visit = (node: unknown, path: ConfigPath): void => {
      if (isMap(node)) {
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const keyPath = [...path, String(pair.key.value)];
          const key = nodeSpan(pair.key);
          const value = nodeSpan(pair.value);
          if (key && offset >= key.start && offset <= key.end) found = { path: keyPath, onKey: true };
          else if (value && offset >= value.start && offset <= value.end) {
            found = { path: keyPath, onKey: false };
            visit(pair.value, keyPath);
          }
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, index) => {
          const span = nodeSpan(item);
          if (span && offset >= span.start && offset <= span.end) {
            found = { path: [...path, index], onKey: false };
            visit(item, [...path, index]);
          }
        });
      }
    };
    visit(this.yaml.contents, []);
    return found;
  }
}

/**
 * Keys that are lists or mappings (`[[[...]]]: 1`, `? {a: 1}`) are reported and replaced by a plain
 * placeholder before the value is built: the parser would otherwise stringify each one, which for
 * a deeply nested key took seconds (and printed a warning on stderr).
 */
function replaceComplexKeys(root: unknown): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      for (const pair of node.items) {
        if (pair.key !== null && !isScalar(pair.key)) {
          const span = nodeSpan(pair.key) ?? { start: 0, end: 1 };
          problems.push({
            code: 'COMPLEX_KEY',
            message: 'A key must be a plain value, not a list, a mapping or an alias',
            start: span.start,
            end: Math.max(span.end, span.start + 1),
          });
          pair.key = new Scalar(`(complex key ${problems.length})`);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) for (const item of node.items) stack.push(item);
  }
  return problems;
}

/** Every key that repeats an earlier scalar key of its mapping, at any depth (one set per mapping). */
function duplicateKeys(root: unknown): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          const span = nodeSpan(pair.key);
          if (seen.has(key) && span)
            problems.push({
              code: 'DUPLICATE_KEY',
              message: 'Map keys must be unique',
              start: span.start,
              end: span.end,
            });
          seen.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) for (const item of node.items) stack.push(item);
  }
  return problems.sort((a, b) => a.start - b.start);
}

function nodeSpan(node: unknown): { start: number; end: number } | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as Node).range;
    if (range) return { start: range[0], end: range[1] };
  }
  return undefined;
}

function pairLocation(pair: Pair): NodeLocation {
  return { key: nodeSpan(pair.key), value: nodeSpan(pair.value), node: pair.value as Node };
}

export { isMap, isPair, isScalar, isSeq };
