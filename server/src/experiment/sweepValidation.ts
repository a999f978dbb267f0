/**
 * Validation of a file's `sweep:` grid, on top of the file's own: each key path must exist in the
 * format (did-you-mean otherwise), each listed value must be valid for its key, and every
 * combination must pass the schema and the model-aware checks. A problem is reported on the list
 * item that causes it: the item itself when it is wrong alone, else the item whose pairing with
 * another breaks (`pruning.method: acdc` with a swept SA++-only key), so the fix is where it shows.
 */
import type { z } from 'zod';
import type { SweepAxis } from '@protocol';
import { analyzeExperiment, type ExperimentAnalysis } from './analysis';
import { closestMatch } from './closestMatch';
import { diagnostic, type ExperimentDiagnostic } from './diagnostics';
import type { ExperimentHost } from './experimentHost';
import { experimentJsonSchema, isRecord, type JsonSchema } from './jsonSchema';
import type { LocatedDiagnostic } from './modelChecks';
import { ExperimentSchema } from './schema';
import {
  applySweepParams,
  combinationCount,
  expandGrid,
  splitKeyPath,
  SWEEP_KEY,
  SWEEP_RUNS_WARNING,
  SWEEP_SLURM_KEY,
  type SweepParams,
} from './sweep';
import type { ConfigPath, ExperimentDocument, NodeLocation } from './yamlDocument';

/** Combinations checked one by one at most; beyond, an information says the rest were not. */
export const SWEEP_CHECK_LIMIT = 1000;

export interface SweepCheck {
  /** The valid axes, in file order. */
  axes: SweepAxis[];
  /** Runs the grid makes (the product of the axes' lengths). */
  runs: number;
}

type Issue = z.core.$ZodIssue;

/** The validator's own translators, passed in (validate.ts calls this module). */
export interface SweepCheckTools {
  schemaDiagnostics(issue: Issue, document: ExperimentDocument): ExperimentDiagnostic[];
  modelDiagnostics(analysis: ExperimentAnalysis, document: ExperimentDocument): LocatedDiagnostic[];
}

/** Paths that are not settings of a run: the format version and the sweep itself. */
const UNSWEEPABLE = new Set(['version', SWEEP_KEY]);

let keyPaths: Map<string, JsonSchema> | undefined;

/**
 * Every dotted key path of the format a sweep may set, with its schema: mappings and their keys
 * down to the leaves, over every variant of the unions (`pruning.exponent` is a key of `sapp` and
 * `magnitude`; whether it fits a combination is checked per combination).
 */
export function sweepKeyPaths(): Map<string, JsonSchema> {
  if (keyPaths) return keyPaths;
  keyPaths = new Map();
  const visit = (schema: JsonSchema, prefix: string) => {
    const branches = schema.oneOf ?? schema.anyOf ?? [schema];
    for (const branch of branches) {
      for (const [key, child] of Object.entries(branch.properties ?? {})) {
        const path = prefix ? `${prefix}.${key}` : key;
        if (!prefix && UNSWEEPABLE.has(key)) continue;
        if (!keyPaths!.has(path)) keyPaths!.set(path, child);
        visit(child, path);
      }
    }
  };
  visit(experimentJsonSchema(), '');
  return keyPaths;
}

interface Axis extends SweepAxis {
  /** Where each listed value sits. */
  items: NodeLocation[];
}

interface Problem {
  diagnostic: ExperimentDiagnostic;
  /** Identity across combinations: the same problem is reported once. */
  key: string;
}

const issueKey = (issue: Issue) =>
  `${issue.code}|${issue.path.join('.')}|${'keys' in issue ? issue.keys.join(',') : ''}`;
const modelKey = (d: LocatedDiagnostic) => `${d.diagnostic.code}|${d.path.join('.')}|${d.diagnostic.message}`;
const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * The file's document as one combination sees it: its value with the combination applied, and
 * swept paths located at the listed item they take (the rest where the file has it). An object
 * made from the document by prototype, so the validator's translators work on it unchanged.
 */
function combinationView(
  document: ExperimentDocument,
  params: SweepParams,
  items: Map<string, NodeLocation>,
): ExperimentDocument {
  const view = Object.create(document) as ExperimentDocument;
  Object.defineProperty(view, 'value', { value: applySweepParams(document.value, params) });
  view.locate = (path: ConfigPath) => {
    for (const [sweptPath, item] of items) {
      const segments = splitKeyPath(sweptPath);
      if (segments.length > path.length || segments.some((s, i) => path[i] !== s)) continue;
      const rest = path.slice(segments.length);
      return rest.length === 0 ? item : document.locateFrom(item.node, rest);
    }
    return document.locate(path);
  };
  return view;
}

export interface SweepDiagnostics {
  diagnostics: ExperimentDiagnostic[];
  check: SweepCheck | null;
  /**
   * Whether one of the file's own model-aware diagnostics stands: only when every run has it
   * (those of a swept key's file value, which no run uses, do not).
   */
  keepBaseModel(located: LocatedDiagnostic): boolean;
}

export function sweepDiagnostics(
  document: ExperimentDocument,
  host: ExperimentHost,
  tools: SweepCheckTools,
): SweepDiagnostics {
  const sweep = isRecord(document.value) ? document.value[SWEEP_KEY] : undefined;
  if (!isRecord(sweep)) return { diagnostics: [], check: null, keepBaseModel: () => true };
  const out: ExperimentDiagnostic[] = [];
  const paths = sweepKeyPaths();
  const axes: Axis[] = [];
  for (const [path, values] of Object.entries(sweep)) {
    if (path === SWEEP_SLURM_KEY) continue;
    if (!paths.has(path)) {
      out.push(unknownPath(document, path, [...paths.keys(), SWEEP_SLURM_KEY]));
      continue;
    }
    if (!Array.isArray(values) || values.length === 0) continue; // the schema says what a sweep entry needs
    const items = values.map(
      (_, i) => document.locate([SWEEP_KEY, path, i]) ?? { value: document.spanOf([SWEEP_KEY, path]) },
    );
    axes.push({ path, values: values as SweepAxis['values'], items });
  }
  const check: SweepCheck = { axes: axes.map(({ path, values }) => ({ path, values })), runs: combinationCount(axes) };
  if (axes.length === 0) return { diagnostics: out, check, keepBaseModel: () => true };
  if (check.runs > SWEEP_RUNS_WARNING)
    out.push(
      diagnostic(
        'sweep-large',
        document.range(document.spanOf([SWEEP_KEY])),
        `This sweep is ${check.runs} runs (${axes.map((a) => a.values.length).join(' × ')}); check the lists, or split the study into several files.`,
      ),
    );

  // The data section rarely varies across a grid: probe each distinct one once.
  const probes = new Map<string, ReturnType<ExperimentHost['probeData']>>();
  const probing: ExperimentHost = {
    ...host,
    probeData: (data) => {
      const key = JSON.stringify(data);
      let probe = probes.get(key);
      if (!probe) probes.set(key, (probe = host.probeData(data)));
      return probe;
    },
  };

  // The file's own schema problems are reported by the validator already.
  const baseParse = ExperimentSchema.safeParse(applySweepParams(document.value, {}));
  const baseIssues = new Set(baseParse.success ? [] : baseParse.error.issues.map(issueKey));
  const itemsOf = (params: SweepParams) =>
    new Map(axes.map((axis) => [axis.path, axis.items[indexOf(axis, params[axis.path])]!] as const));

  /** Schema problems of a combination, or (when it parses) its model-aware ones. */
  const problemsOf = (params: SweepParams): Problems => {
    const view = combinationView(document, params, itemsOf(params));
    const found: Problems = { valid: false, schema: new Map(), model: new Map() };
    const parsed = ExperimentSchema.safeParse(view.value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issueKey(issue);
        if (baseIssues.has(key)) continue;
        for (const d of tools.schemaDiagnostics(issue, view))
          found.schema.set(`${key}|${d.message}`, { diagnostic: d, key });
      }
      return found;
    }
    found.valid = true;
    for (const located of tools.modelDiagnostics(analyzeExperiment(parsed.data, probing), view))
      found.model.set(modelKey(located), { diagnostic: located.diagnostic, key: modelKey(located) });
    return found;
  };

  const combinations = expandGrid(axes).slice(0, SWEEP_CHECK_LIMIT);
  const results = combinations.map(problemsOf);
  const all = [...combinations.keys()];
  const valid = all.filter((i) => results[i]!.valid);

  // The file's own model problems stand where the file has them when every run has them; those no
  // run has (the file's value at a swept key, which no run uses) are dropped.
  const keptBase = new Set<string>();
  if (baseParse.success)
    for (const located of tools.modelDiagnostics(analyzeExperiment(baseParse.data, probing), document)) {
      const key = modelKey(located);
      if (valid.every((i) => results[i]!.model.has(key))) keptBase.add(key);
    }

  const reported = new Set<string>();
  /** Reports `problem` on the value `context[target]`, naming the other values of `context`. */
  const report = (problem: Problem, target: string, context: Record<string, SweepParams[string] | OneOf>) => {
    const axis = axes.find((a) => a.path === target)!;
    const item = axis.items[indexOf(axis, context[target])]!;
    const span = item.value ?? document.spanOf([SWEEP_KEY, target]);
    const d = problem.diagnostic;
    // Once per value and problem, whichever combination showed it first.
    const id = `${span.start}|${d.code}|${d.message}`;
    if (reported.has(id)) return;
    reported.add(id);
    const inside =
      document.lines.offsetAt(d.range.start) >= span.start && document.lines.offsetAt(d.range.end) <= span.end;
    const others = Object.entries(context).filter(([p]) => p !== target);
    const name = (entries: [string, unknown][]) =>
      entries
        .map(([p, v]) =>
          v instanceof OneOf
            ? `\`${p}\` ${v.values
                .map(show)
                .join(', ')
                .replace(/, ([^,]*)$/, ' or $1')}`
            : `\`${p}: ${show(v)}\``,
        )
        .join(' and ');
    if (inside) out.push(others.length > 0 ? { ...d, message: `With ${name(others)}: ${d.message}` } : d);
    else
      out.push({
        ...d,
        range: document.range(span),
        message: `With ${name([[target, context[target]], ...others])}: ${d.message}`,
        fixes: [], // its edits are for the file's own keys, which this one value does not change
      });
  };

  for (const kind of ['schema', 'model'] as const) {
    const universe = kind === 'schema' ? all : valid;
    const ids = new Set(universe.flatMap((i) => [...results[i]![kind].keys()]));
    for (const id of ids) {
      if (kind === 'model' && keptBase.has(id)) continue;
      const having = universe.filter((i) => results[i]![kind].has(id));
      const first = results[having[0]!]![kind].get(id)!;
      // The values that bring the problem whatever the other keys are: reported on each of them.
      const axis = axes.find((a) => explains(universe, having, [a.path], combinations));
      if (axis) {
        for (const i of having)
          report(results[i]![kind].get(id)!, axis.path, { [axis.path]: combinations[i]![axis.path]! });
        continue;
      }
      // Else a pair of keys: on the value whose key the problem is not about (`acdc`, not the swept `pruning.exponent`).
      const pair = pairs(axes).find(([a, b]) => explains(universe, having, [a.path, b.path], combinations));
      if (pair) {
        const target = targetOf(pair[0].path, pair[1].path, first);
        const other = pair[0].path === target ? pair[1].path : pair[0].path;
        const byValue = new Map<string, number[]>();
        for (const i of having) {
          const key = JSON.stringify(combinations[i]![target]);
          byValue.set(key, [...(byValue.get(key) ?? []), i]);
        }
        for (const indices of byValue.values()) {
          const c = combinations[indices[0]!]!;
          const with_ = new OneOf(
            [...new Set(indices.map((i) => JSON.stringify(combinations[i]![other])))].map(
              (v) => JSON.parse(v) as unknown,
            ),
          );
          report(results[indices[0]!]![kind].get(id)!, target, {
            [target]: c[target]!,
            [other]: with_.values.length === 1 ? (with_.values[0] as SweepParams[string]) : with_,
          });
        }
        continue;
      }
      // Only whole combinations have it: on the last key's value, naming the first such combination.
      const c = combinations[having[0]!]!;
      report(first, axes[axes.length - 1]!.path, {
        [axes[axes.length - 1]!.path]: c[axes[axes.length - 1]!.path]!,
        ...c,
      });
    }
  }
  if (check.runs > SWEEP_CHECK_LIMIT)
    out.push(
      diagnostic(
        'model-unchecked',
        document.range(document.spanOf([SWEEP_KEY])),
        `Only the first ${SWEEP_CHECK_LIMIT} of ${check.runs} combinations were checked.`,
      ),
    );
  return { diagnostics: out, check, keepBaseModel: (located) => keptBase.has(modelKey(located)) };
}

interface Problems {
  valid: boolean;
  schema: Map<string, Problem>;
  model: Map<string, Problem>;
}

function indexOf(axis: SweepAxis, value: unknown): number {
  const text = JSON.stringify(value);
  return Math.max(
    0,
    axis.values.findIndex((v) => JSON.stringify(v) === text),
  );
}

function pairs(axes: Axis[]): [Axis, Axis][] {
  return axes.flatMap((a, i) => axes.slice(i + 1).map((b) => [a, b] as [Axis, Axis]));
}

/**
 * Whether the problem is exactly the combinations whose values at `keys` are among those of the
 * combinations having it: then those keys' values explain it, whatever the other keys are.
 */
function explains(universe: number[], having: number[], keys: string[], combinations: SweepParams[]): boolean {
  const tuple = (i: number) => JSON.stringify(keys.map((k) => combinations[i]![k]));
  const causes = new Set(having.map(tuple));
  const explained = universe.filter((i) => causes.has(tuple(i)));
  return explained.length === having.length;
}

/**
 * Which value of a pair the problem goes on: for a key the combination does not allow, the other
 * one (`acdc`, not the swept `pruning.exponent`); for a bad value, the value (a block shape).
 */
function targetOf(first: string, second: string, problem: Problem): string {
  const [code = '', about = '', keys = ''] = problem.key.split('|');
  const concerns = (path: string) =>
    about === path ||
    about.startsWith(`${path}.`) ||
    keys.split(',').some((k) => k && `${about ? `${about}.` : ''}${k}` === path);
  const [a, b] = [concerns(first), concerns(second)];
  // Neither or both: the later axis, where people add the value they are trying.
  if (a === b) return second;
  // A key unknown in the combination is fine in itself: the other value makes it unknown. A
  // problem with a value (a block shape) belongs on that value.
  const concerned = a ? first : second;
  return code === 'unrecognized_keys' ? (concerned === first ? second : first) : concerned;
}

/** Several values of one key that all bring a problem, as a message names them. */
class OneOf {
  constructor(readonly values: unknown[]) {}
}

function unknownPath(document: ExperimentDocument, path: string, known: string[]): ExperimentDiagnostic {
  const span = document.locate([SWEEP_KEY, path])?.key ?? document.spanOf([SWEEP_KEY]);
  // A typo of a whole path, else the paths ending in the same key (`sparsity` → `pruning.sparsity`).
  const depth = splitKeyPath(path).length;
  const close = closestMatch(
    path,
    known.filter((k) => splitKeyPath(k).length === depth),
  );
  const last = splitKeyPath(path).at(-1)!;
  const guesses = close
    ? [close]
    : known.filter((k) => {
        const end = splitKeyPath(k).at(-1)!;
        return end === last || closestMatch(last, [end]) !== undefined;
      });
  const top = splitKeyPath(path)[0]!;
  let message = `\`${path}\` is not a key path of the experiment format, so it cannot be swept.`;
  if (UNSWEEPABLE.has(top)) message = `\`${path}\` cannot be swept.`;
  else if (guesses.length > 0 && guesses.length <= 4)
    message += ` Did you mean ${guesses.map((g) => `\`${g}\``).join(' or ')}?`;
  const fixes =
    guesses.length <= 4
      ? guesses.map((g, i) => ({
          title: `Change to \`${g}\``,
          edits: [{ range: document.range(span), newText: g }],
          preferred: i === 0 && guesses.length === 1,
        }))
      : [];
  return diagnostic('unknown-key', document.range(span), message, { fixes });
}
