/**
 * Completion in experiment files. The cursor's place is read from indentation (it works on the
 * half-typed, often invalid text an editor holds); keys, values and their docs come from the JSON
 * Schema, layer names from the model analysis, snippets from the templates.
 */
import type { ExperimentTemplateKind } from '@protocol';
import {
  choicesOf,
  describeConstraints,
  discriminatorOf,
  isRecord,
  jsonTypes,
  keysAtPath,
  schemaAtPath,
  valueAtPath,
  type JsonSchema,
} from './jsonSchema';
import { splitKeyPath, SWEEP_KEY, SWEEP_SLURM_KEY } from './sweep';
import { sweepKeyPaths } from './sweepValidation';
import { TEMPLATE_TITLES, experimentTemplate, templateSection } from './templates';
import type { ValidationResult } from './validate';
import type { ConfigPath, Position } from './yamlDocument';

export type CompletionKind = 'key' | 'value' | 'snippet' | 'layer';

export interface CompletionEntry {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  /** Text to insert; a snippet (`$1`, `${1|a,b|}`) when `snippet` is true. */
  insertText: string;
  snippet: boolean;
  sortText?: string;
  /** Replace this range of the current line (the word typed so far). */
  replace: { start: Position; end: Position };
  preselect?: boolean;
}

interface CursorContext {
  /** Path of the mapping whose key is being typed, or of the key whose value is being typed. */
  path: ConfigPath;
  position: 'key' | 'value' | 'flow-item';
  /** Start of the word under the cursor on its line. */
  wordStart: number;
}

// Keys may hold dots: the entries of `sweep:` are dotted key paths (`pruning.sparsity`).
const KEY_LINE = /^(\s*)([A-Za-z_][\w.-]*)?$/;
const VALUE_LINE = /^(\s*)([A-Za-z_][\w.-]*)\s*:\s*(.*)$/;
const OPENING_KEY = /^(\s*)([A-Za-z_][\w.-]*)\s*:\s*(#.*)?$/;

/** Where the cursor is: inside which mapping, on a key or a value. Undefined inside comments and block scalars. */
export function cursorContext(lines: string[], line: number, character: number): CursorContext | undefined {
  const before = (lines[line] ?? '').slice(0, character);
  if (before.includes('#')) return undefined;
  const keyMatch = KEY_LINE.exec(before);
  if (keyMatch) {
    const indent = keyMatch[1]!.length;
    return { path: parentPath(lines, line, indent), position: 'key', wordStart: indent };
  }
  const valueMatch = VALUE_LINE.exec(before);
  if (valueMatch) {
    const indent = valueMatch[1]!.length;
    const path = [...parentPath(lines, line, indent), valueMatch[2]!];
    const rest = valueMatch[3]!;
    if (rest.startsWith('[')) {
      const item = /[^[,\s]*$/.exec(rest)![0];
      return { path, position: 'flow-item', wordStart: character - item.length };
    }
    return { path, position: 'value', wordStart: character - rest.length };
  }
  const itemMatch = /^(\s*)- ([^\s#]*)$/.exec(before);
  if (itemMatch) {
    const indent = itemMatch[1]!.length;
    const owner = parentPath(lines, line, indent + 1);
    return { path: owner, position: 'flow-item', wordStart: character - itemMatch[2]!.length };
  }
  return undefined;
}

/** Keys of the block mappings that enclose a line at `indent`, read from the lines above. */
function parentPath(lines: string[], line: number, indent: number): string[] {
  const path: string[] = [];
  let want = indent;
  for (let l = line - 1; l >= 0 && want > 0; l--) {
    const text = lines[l]!;
    if (text.trim() === '' || text.trimStart().startsWith('#')) continue;
    const lineIndent = text.length - text.trimStart().length;
    if (lineIndent >= want) continue;
    const m = OPENING_KEY.exec(text);
    if (!m) {
      if (/^\s*- /.test(text)) continue;
      break;
    }
    path.unshift(m[2]!);
    want = lineIndent;
  }
  return path;
}

export function complete(result: ValidationResult, position: Position): CompletionEntry[] {
  const lines = result.document.text.split(/\r?\n/);
  const context = cursorContext(lines, position.line, position.character);
  if (!context) return [];
  const replace = { start: { line: position.line, character: context.wordStart }, end: position };
  const root = result.document.value;
  if (context.path[0] === SWEEP_KEY && context.path[1] !== SWEEP_SLURM_KEY) {
    if (context.position === 'key' && context.path.length === 1) return sweepKeyCompletions(root, replace);
    if (context.position !== 'key' && context.path.length === 2)
      return sweepValueCompletions(String(context.path[1]), root, context.position, replace);
  }
  if (context.position === 'key') return keyCompletions(context.path, root, replace, lines, position.line);
  return valueCompletions(result, context, replace);
}

/** The paths people sweep most, offered first. */
const COMMON_SWEEP_PATHS = ['pruning.sparsity', 'pruning.method', 'seed', 'pruning.block', 'training.steps'];

/** Inside `sweep:`: every key path of the format (and `slurm`), with the docs of the key it sets. */
function sweepKeyCompletions(root: unknown, replace: CompletionEntry['replace']): CompletionEntry[] {
  const sweep = valueAtPath(root, [SWEEP_KEY]);
  const taken = new Set(isRecord(sweep) ? Object.keys(sweep) : []);
  const entries: CompletionEntry[] = [];
  for (const [path, schema] of sweepKeyPaths()) {
    if (taken.has(path)) continue;
    const common = COMMON_SWEEP_PATHS.indexOf(path);
    const leaf = !jsonTypes(schema).includes('object') || jsonTypes(schema).length > 1;
    entries.push({
      label: path,
      kind: 'key',
      detail: describeConstraints(schema) || undefined,
      documentation: schema.markdownDescription ?? schema.description,
      insertText: `${path}: [$1]`,
      snippet: true,
      sortText: common >= 0 ? `0-${common}` : `${leaf ? 1 : 2}-${String(entries.length).padStart(3, '0')}`,
      replace,
    });
  }
  if (!taken.has(SWEEP_SLURM_KEY)) {
    const slurm = schemaAtPath([SWEEP_KEY, SWEEP_SLURM_KEY], root);
    entries.push({
      label: SWEEP_SLURM_KEY,
      kind: 'key',
      documentation: slurm?.markdownDescription,
      insertText: `${SWEEP_SLURM_KEY}:\n  $0`,
      snippet: true,
      sortText: '3-slurm',
      replace,
    });
  }
  return entries;
}

/** The values of a swept key: its choices, one by one inside the list, or all of them as a list. */
function sweepValueCompletions(
  path: string,
  root: unknown,
  position: CursorContext['position'],
  replace: CompletionEntry['replace'],
): CompletionEntry[] {
  const segments = splitKeyPath(path);
  const parent = schemaAtPath(segments.slice(0, -1), root);
  const branches = parent?.oneOf ?? parent?.anyOf;
  const last = segments[segments.length - 1]!;
  const choices =
    branches && discriminatorOf(branches) === last
      ? branches.map((b) => ({
          value: b.properties?.[last]?.const,
          markdown: b.properties?.[last]?.markdownDescription,
        }))
      : choicesOf(sweepKeyPaths().get(path) ?? {});
  const entries: CompletionEntry[] = choices.map((c, i) => ({
    label: String(c.value),
    kind: 'value' as const,
    documentation: c.markdown,
    insertText: position === 'value' ? `[${String(c.value)}]` : String(c.value),
    snippet: false,
    sortText: `1-${String(i).padStart(3, '0')}`,
    replace,
  }));
  if (position === 'value' && choices.length > 1)
    entries.unshift({
      label: `[${choices.map((c) => String(c.value)).join(', ')}]`,
      kind: 'value',
      detail: 'every choice',
      insertText: `[${choices.map((c) => String(c.value)).join(', ')}]`,
      snippet: false,
      sortText: '0',
      replace,
    });
  return entries;
}

function keyCompletions(
  path: ConfigPath,
  root: unknown,
  replace: CompletionEntry['replace'],
  lines: string[],
  line: number,
): CompletionEntry[] {
  const typing = (lines[line] ?? '').trim().replace(/:.*$/, '');
  const present = valueAtPath(root, path);
  const taken = new Set(isRecord(present) ? Object.keys(present).filter((k) => k !== typing) : []);
  const entries: CompletionEntry[] = [];
  const keys = keysAtPath(path, root);
  const parentSchema = schemaAtPath(path, root);
  const branches = parentSchema?.oneOf ?? parentSchema?.anyOf;
  const discriminator = branches ? discriminatorOf(branches) : undefined;
  for (const { key, schema, required } of keys) {
    if (taken.has(key)) continue;
    entries.push({
      label: key,
      kind: 'key',
      detail: describeConstraints(schema) || undefined,
      documentation: schema.markdownDescription ?? schema.description,
      insertText: keySnippet(key, schema, discriminator === key ? branches : undefined),
      snippet: true,
      // Required keys and the discriminator first, then the rest in schema order.
      sortText: `${key === discriminator ? 0 : required ? 1 : 2}-${String(entries.length).padStart(3, '0')}`,
      replace,
      preselect: key === discriminator,
    });
  }
  if (path.length === 0) {
    const empty = !isRecord(root) || Object.keys(root).length === 0;
    for (const kind of Object.keys(TEMPLATE_TITLES) as ExperimentTemplateKind[]) {
      if (empty) {
        entries.push({
          label: `new experiment (${kind})`,
          kind: 'snippet',
          detail: TEMPLATE_TITLES[kind],
          documentation: '```yaml\n' + experimentTemplate('my-experiment', kind) + '```',
          insertText: snippetEscape(experimentTemplate('my-experiment', kind)).replace(
            'name: my-experiment',
            'name: ${1:my-experiment}',
          ),
          snippet: true,
          sortText: `0-${kind}`,
          replace,
        });
      }
      for (const section of ['data', 'model', 'pruning'] as const) {
        if (taken.has(section)) continue;
        const text = templateSection(kind, section);
        if (!text) continue;
        entries.push({
          label: `${section} (${kind})`,
          kind: 'snippet',
          detail: `${section} section from the ${kind} template`,
          documentation: '```yaml\n' + text + '\n```',
          insertText: snippetEscape(text),
          snippet: true,
          sortText: `3-${section}-${kind}`,
          replace,
        });
      }
    }
  }
  return entries;
}

function keySnippet(key: string, schema: JsonSchema, discriminatorBranches?: JsonSchema[]): string {
  if (discriminatorBranches) {
    const values = discriminatorBranches.map((b) => String(b.properties?.[key]?.const));
    return `${key}: \${1|${values.join(',')}|}`;
  }
  const choices = choicesOf(schema);
  if (choices.length > 1 && choices.length <= 12)
    return `${key}: \${1|${choices.map((c) => String(c.value)).join(',')}|}`;
  const types = jsonTypes(schema);
  if (types.length === 1 && types[0] === 'object') return `${key}:\n  $0`;
  if (types.length === 1 && types[0] === 'array') return `${key}: [$1]`;
  if (schema.default !== undefined && !isRecord(schema.default))
    return `${key}: \${1:${snippetEscape(JSON.stringify(schema.default).replace(/^"|"$/g, ''))}}`;
  return `${key}: $0`;
}

function valueCompletions(
  result: ValidationResult,
  context: CursorContext,
  replace: CompletionEntry['replace'],
): CompletionEntry[] {
  const root = result.document.value;
  const { path } = context;
  const last = path[path.length - 1];
  // Layer names inside `layers:` and `exclude:`.
  if (path.length === 2 && path[0] === 'pruning' && (last === 'layers' || last === 'exclude')) {
    const plan = result.analysis?.plan;
    const entries: CompletionEntry[] = (plan?.layers ?? []).map((l, i) => ({
      label: l.name,
      kind: 'layer',
      detail: `${l.rows}x${l.cols} · ${l.blocks} blocks (${l.gridRows}x${l.gridCols})`,
      documentation: `Layer \`${l.name}\`: kernel ${l.rows}x${l.cols}, ${l.blocks} blocks of ${l.blockRows}x${l.blockCols}; now ${l.status}.`,
      insertText: l.name,
      snippet: false,
      sortText: String(i).padStart(3, '0'),
      replace,
    }));
    if (last === 'layers' && context.position === 'value')
      entries.unshift({
        label: 'all',
        kind: 'value',
        detail: 'every layer with a kernel',
        insertText: 'all',
        snippet: false,
        sortText: '000',
        replace,
      });
    return entries;
  }
  if (context.position !== 'value') return [];
  const parent = schemaAtPath(path.slice(0, -1), root);
  const branches = parent?.oneOf ?? parent?.anyOf;
  let choices: { value: unknown; markdown?: string }[];
  if (branches && discriminatorOf(branches) === last) {
    choices = branches.map((b) => ({
      value: b.properties?.[String(last)]?.const,
      markdown: b.properties?.[String(last)]?.markdownDescription,
    }));
  } else {
    const schema = schemaAtPath(path, root);
    choices = schema ? choicesOf(schema) : [];
  }
  return choices.map((c, i) => ({
    label: String(c.value),
    kind: 'value' as const,
    documentation: c.markdown,
    insertText: String(c.value),
    snippet: false,
    sortText: String(i).padStart(3, '0'),
    replace,
  }));
}

function snippetEscape(text: string): string {
  return text.replace(/[$}\\]/g, '\\$&');
}
