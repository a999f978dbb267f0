/**
 * Validation of an experiment file in three levels: YAML syntax, the schema,
 * and model-aware checks computed from shapes. Every level runs on whatever the earlier ones leave:
 * the YAML parser recovers from syntax errors, and values the schema rejects are dropped (their
 * defaults apply) so that the model-aware checks still see the rest of the file.
 */
import type { z } from 'zod';
import { analyzeExperiment, type ExperimentAnalysis } from './analysis';
import { closestMatch } from './closestMatch';
import { diagnostic, type ExperimentDiagnostic, type Fix } from './diagnostics';
import type { ExperimentHost } from './experimentHost';
import { describeConstraints, isRecord, keysAtPath, schemaAtPath, valueAtPath } from './jsonSchema';
import { modelDiagnostics } from './modelChecks';
import { ExperimentSchema, type ExperimentConfig } from './schema';
import { sweepDiagnostics, type SweepCheck } from './sweepValidation';
import { ExperimentDocument, type ConfigPath } from './yamlDocument';

export interface ValidationResult {
  document: ExperimentDocument;
  diagnostics: ExperimentDiagnostic[];
  /** The config with defaults, when the schema accepts the file once rejected values are dropped. */
  config: ExperimentConfig | null;
  /** Paths whose values were rejected and replaced by defaults to get `config`. */
  dropped: ConfigPath[];
  analysis: ExperimentAnalysis | null;
  /** The file's `sweep:` grid as far as it is valid, or null when the file has none. */
  sweep: SweepCheck | null;
}

export function validateExperiment(text: string, host: ExperimentHost): ValidationResult {
  const document = new ExperimentDocument(text);
  const diagnostics = syntaxDiagnostics(document);
  const value = document.value;

  const parsed = ExperimentSchema.safeParse(value);
  let config: ExperimentConfig | null = null;
  let dropped: ConfigPath[] = [];
  const exclusive = mutuallyExclusive(document);
  diagnostics.push(...exclusive.diagnostics);
  if (parsed.success && exclusive.diagnostics.length === 0) config = parsed.data;
  else if (value === null) {
    // An empty file (or only comments): ask for what every experiment needs, at the top.
    const required = ExperimentSchema.safeParse({}).error?.issues ?? [];
    diagnostics.push(...required.map((issue) => missingKey(document, issue.path as ConfigPath)));
  } else {
    const issues = parsed.success ? [] : parsed.error.issues;
    diagnostics.push(...issues.flatMap((issue) => schemaDiagnostics(issue, document)));
    const repaired = parseWithRepair(value, issues, exclusive.drop);
    if (repaired) ({ config, dropped } = repaired);
  }

  const sweep = sweepDiagnostics(document, host, { schemaDiagnostics, modelDiagnostics });
  diagnostics.push(...sweep.diagnostics);

  let analysis: ExperimentAnalysis | null = null;
  if (config) {
    analysis = analyzeExperiment(config, host);
    const touchesDropped = (path: ConfigPath) =>
      dropped.some((d) => d.every((segment, i) => path[i] === segment) || path.every((s, i) => d[i] === s));
    for (const { path, diagnostic } of modelDiagnostics(analysis, document)) {
      if (!touchesDropped(path) && sweep.keepBaseModel({ path, diagnostic })) diagnostics.push(diagnostic);
    }
  }
  diagnostics.sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
  );
  return { document, diagnostics, config, dropped, analysis, sweep: sweep.check };
}

/** `training.steps`, `pruning.block[0]`: how messages name a place in the file. */
export function dotted(path: ConfigPath): string {
  return path.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function syntaxDiagnostics(document: ExperimentDocument): ExperimentDiagnostic[] {
  return document.syntaxProblems.map((p) => {
    if (p.code === 'DUPLICATE_KEY') {
      // Matched in place (sticky), not on a slice: thousands of duplicates must not copy the file each.
      const plainKey = /[^\s:#,[\]{}]+/y;
      plainKey.lastIndex = p.start;
      const key = plainKey.exec(document.text)?.[0] ?? '';
      const end = p.start + Math.max(1, key.length);
      return diagnostic(
        'duplicate-key',
        document.lines.range(p.start, end),
        `Duplicate key \`${key}\`: only the last value counts.`,
      );
    }
    return diagnostic('yaml-syntax', document.lines.range(p.start, p.end), `YAML syntax: ${p.message}`);
  });
}

function mutuallyExclusive(document: ExperimentDocument): { diagnostics: ExperimentDiagnostic[]; drop: ConfigPath[] } {
  const training = valueAtPath(document.value, ['training']);
  if (!isRecord(training) || training['steps'] === undefined || training['epochs'] === undefined)
    return { diagnostics: [], drop: [] };
  const epochs = document.locate(['training', 'epochs']);
  const steps = document.locate(['training', 'steps']);
  const fixes: Fix[] = [];
  const removeLine = (loc: typeof epochs, title: string) => {
    if (!loc?.key) return;
    const line = document.lines.positionAt(loc.key.start).line;
    fixes.push({
      title,
      edits: [{ range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, newText: '' }],
    });
  };
  removeLine(epochs, 'Remove `epochs` (keep `steps`)');
  removeLine(steps, 'Remove `steps` (keep `epochs`)');
  return {
    diagnostics: [
      diagnostic(
        'mutually-exclusive',
        document.range(document.spanOf(['training', 'epochs'])),
        '`training.steps` and `training.epochs` cannot be used together: give the length of training one way.',
        { fixes },
      ),
    ],
    drop: [['training', 'epochs']],
  };
}

type Issue = z.core.$ZodIssue;

/** The diagnostics of one schema issue, located in `document` (or a sweep combination's view of it). */
function schemaDiagnostics(issue: Issue, document: ExperimentDocument): ExperimentDiagnostic[] {
  const path = issue.path as ConfigPath;
  const value = valueAtPath(document.value, path);
  const where = dotted(path) || 'the file';
  const valueRange = () => document.range(document.spanOf(path, 'value'));
  const replaceValue = (title: string, newText: string, preferred = false): Fix[] => {
    const span = document.locate(path)?.value;
    return span ? [{ title, edits: [{ range: document.range(span), newText }], preferred }] : [];
  };

  switch (issue.code) {
    case 'unrecognized_keys':
      return unknownKeys(document, path, issue.keys);
    case 'invalid_type': {
      if (value === undefined) return [missingKey(document, path)];
      const expected = issue.expected === 'int' ? 'an integer' : describeExpected(path, document.value);
      const fixes =
        issue.expected === 'int' && typeof value === 'number'
          ? replaceValue(`Round to ${Math.round(value)}`, String(Math.round(value)), true)
          : [];
      return [
        diagnostic('wrong-type', valueRange(), `\`${where}\` expects ${expected}, got ${show(value)}.`, { fixes }),
      ];
    }
    case 'too_big':
    case 'too_small':
      return [outOfRange(issue, document, path, value)];
    case 'invalid_value': {
      const choices = issue.values.map((v) => String(v));
      const guess =
        typeof value === 'string' ? closestMatch(value, choices) : choices.length === 1 ? choices[0] : undefined;
      const fixes = guess !== undefined ? replaceValue(`Change to \`${guess}\``, guess, true) : [];
      const list = choices.map((c) => `\`${c}\``).join(', ');
      return [
        diagnostic(
          'bad-enum',
          valueRange(),
          `\`${where}\` must be ${choices.length === 1 ? list : `one of ${list}`}; got ${show(value)}.`,
          {
            fixes,
          },
        ),
      ];
    }
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
      if (discriminator !== undefined) {
        if (value === undefined) return [missingKey(document, path, options)];
        const guess = typeof value === 'string' ? closestMatch(value, options) : undefined;
        const fixes = guess ? replaceValue(`Change to \`${guess}\``, guess, true) : [];
        return [
          diagnostic(
            'bad-enum',
            valueRange(),
            `\`${where}\` must be one of ${options.map((o) => `\`${o}\``).join(', ')}; got ${show(value)}.`,
            { fixes },
          ),
        ];
      }
      return [
        diagnostic(
          'wrong-type',
          valueRange(),
          `\`${where}\` expects ${describeExpected(path, document.value)}, got ${show(value)}.`,
        ),
      ];
    }
    case 'invalid_format': {
      const schema = schemaAtPath(path, document.value);
      const rule = schema?.description ?? `the pattern ${String((issue as { pattern?: string }).pattern)}`;
      return [diagnostic('bad-format', valueRange(), `\`${where}\` is not valid: ${rule}`)];
    }
    default:
      return [diagnostic('wrong-type', valueRange(), `\`${where}\`: ${issue.message}`)];
  }
}

function describeExpected(path: ConfigPath, root: unknown): string {
  const schema = schemaAtPath(path, root);
  return schema ? describeConstraints(schema).replace(/ · default.*$/, '') || 'another type' : 'another type';
}

function show(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return `a list (${JSON.stringify(value).slice(0, 40)})`;
  if (isRecord(value)) return 'a mapping';
  return `${typeof value} \`${String(value as string | number | boolean).slice(0, 60)}\``;
}

/**
 * One diagnostic per unknown key of a mapping. What they share (the keys allowed there and not
 * yet used, the other sections' keys) is computed once for the mapping, so that a file with
 * thousands of unknown keys costs time in proportion to them, not to their square.
 */
function unknownKeys(document: ExperimentDocument, parent: ConfigPath, keys: string[]): ExperimentDiagnostic[] {
  const parentValue = valueAtPath(document.value, parent);
  const present = new Set(isRecord(parentValue) ? Object.keys(parentValue) : []);
  const candidates = keysAtPath(parent, document.value)
    .map((k) => k.key)
    .filter((k) => !present.has(k));
  const allowed = candidates.map((c) => `\`${c}\``).join(', ');
  const homes = new Map<string, string>();
  for (const section of ['data', 'model', 'training', 'pruning', 'output'].reverse())
    if (section !== parent[0]) for (const k of keysAtPath([section], document.value)) homes.set(k.key, section);
  const where = parent.length > 0 ? `in \`${dotted(parent)}\`` : 'at the top level';
  return keys.map((key) => {
    const span = document.locate([...parent, key])?.key ?? document.spanOf(parent);
    const guess = closestMatch(key, candidates);
    let message = `Unknown key \`${key}\` ${where}.`;
    const fixes: Fix[] = [];
    if (guess) {
      message += ` Did you mean \`${guess}\`?`;
      fixes.push({
        title: `Change to \`${guess}\``,
        edits: [{ range: document.range(span), newText: guess }],
        preferred: true,
      });
    } else {
      const home = homes.get(key);
      if (home) message += ` It belongs in \`${home}\`.`;
      else if (candidates.length > 0) message += ` Allowed here: ${allowed}.`;
    }
    return diagnostic('unknown-key', document.range(span), message, { fixes });
  });
}

function missingKey(document: ExperimentDocument, path: ConfigPath, options: string[] = []): ExperimentDiagnostic {
  const key = String(path[path.length - 1] ?? '');
  const parent = path.slice(0, -1);
  const span = parent.length > 0 ? document.spanOf(parent) : firstKeySpan(document);
  const choice = options.length > 0 ? `: one of ${options.map((o) => `\`${o}\``).join(', ')}` : '';
  const where = parent.length > 0 ? `\`${dotted(parent)}\` needs` : 'The file needs';
  const fixes: Fix[] = [];
  if (path.length === 1 && key === 'version')
    fixes.push({
      title: 'Add `version: 1`',
      edits: [{ range: document.range({ start: 0, end: 0 }), newText: 'version: 1\n' }],
      preferred: true,
    });
  return diagnostic('missing-required', document.range(span), `${where} the key \`${key}\`${choice}.`, { fixes });
}

/** The first line of the file's contents (after leading comments): where file-level problems go. */
function firstKeySpan(document: ExperimentDocument): { start: number; end: number } {
  const start = document.yaml.contents?.range?.[0] ?? 0;
  const line = document.lines.positionAt(start).line;
  return {
    start,
    end:
      start + Math.max(1, document.lines.lineText(line).trimEnd().length - document.lines.positionAt(start).character),
  };
}

function outOfRange(
  issue: Issue,
  document: ExperimentDocument,
  path: ConfigPath,
  value: unknown,
): ExperimentDiagnostic {
  const where = dotted(path);
  const range = document.range(document.spanOf(path, 'value'));
  const { origin, inclusive } = issue as { origin?: string; inclusive?: boolean };
  const big = issue.code === 'too_big';
  const bound = Number(
    big ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum,
  );
  if (origin !== 'number' || typeof value !== 'number') {
    const what = origin === 'array' ? 'items' : origin === 'string' ? 'characters' : '';
    return diagnostic(
      'out-of-range',
      range,
      `\`${where}\` must have ${big ? 'at most' : 'at least'} ${bound} ${what}.`.replace(' .', '.'),
    );
  }
  const relation = big ? (inclusive ? 'at most' : 'below') : inclusive ? 'at least' : 'above';
  const fixes: Fix[] = [];
  const span = document.locate(path)?.value;
  if (span) {
    const edit = (title: string, newValue: number, preferred: boolean): Fix => ({
      title,
      edits: [{ range: document.range(span), newText: String(newValue) }],
      preferred,
    });
    // A percentage where a fraction belongs: `sparsity: 90` means 0.9.
    if (big && bound === 1 && value > 1 && value < 100)
      fixes.push(edit(`Change to ${value / 100} (${value}%)`, value / 100, true));
    if (inclusive) fixes.push(edit(`Clamp to ${bound}`, bound, fixes.length === 0));
  }
  return diagnostic('out-of-range', range, `\`${where}\` must be ${relation} ${bound}; got ${value}.`, { fixes });
}

/** The config with rejected values dropped (defaults apply), or null when that cannot make it valid. */
function parseWithRepair(
  value: unknown,
  firstIssues: Issue[],
  alsoDrop: ConfigPath[],
): { config: ExperimentConfig; dropped: ConfigPath[] } | null {
  if (!isRecord(value)) return null;
  const draft = structuredClone(value);
  const dropped: ConfigPath[] = [];
  let issues = firstIssues;
  for (const path of alsoDrop) {
    deleteAt(draft, path);
    dropped.push(path);
  }
  for (let round = 0; round < 4; round++) {
    for (const issue of issues) {
      const path = issue.path as ConfigPath;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) deleteAt(draft, [...path, key]);
        continue;
      }
      if (valueAtPath(draft, path) === undefined) {
        if (path.length === 1 && path[0] === 'version') draft['version'] = 1;
        else if (path.length === 1 && path[0] === 'name') draft['name'] = 'experiment';
        else return null;
        continue;
      }
      // Drop a whole list when one item is wrong: its default is a better stand-in than a hole.
      const index = path.findIndex((s) => typeof s === 'number');
      const target = index >= 0 ? path.slice(0, index) : path;
      if (target.length === 0) return null;
      deleteAt(draft, target);
      dropped.push(target);
    }
    const parsed = ExperimentSchema.safeParse(draft);
    if (parsed.success) return { config: parsed.data, dropped };
    issues = parsed.error.issues;
  }
  return null;
}

function deleteAt(root: Record<string, unknown>, path: ConfigPath): void {
  const parent = valueAtPath(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (isRecord(parent) && typeof last === 'string') delete parent[last];
}
