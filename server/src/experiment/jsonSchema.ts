/**
 * The JSON Schema (draft-07) generated from the one zod schema, and navigation over it. Completion
 * and hover read keys, docs, enums, ranges and defaults from here, so they say exactly what the
 * validator enforces; `schemas/prune-experiment.schema.json` is this object, checked in.
 */
import { z } from 'zod';
import { ExperimentSchema } from './schema';
import type { ConfigPath } from './yamlDocument';

/** The subset of JSON Schema that zod emits and that we read. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
  markdownDescription?: string;
  enumDescriptions?: string[];
  markdownEnumDescriptions?: string[];
  not?: JsonSchema;
  [key: string]: unknown;
}

export const SCHEMA_ID = 'https://sparsity-studio.dev/schemas/prune-experiment.schema.json';

let cached: JsonSchema | undefined;

export function experimentJsonSchema(): JsonSchema {
  if (cached) return cached;
  const generated = z.toJSONSchema(ExperimentSchema, { io: 'input', target: 'draft-7' }) as JsonSchema;
  const training = generated.properties?.training;
  // `steps` xor `epochs` is checked by the validator; say it in the schema too for other tools.
  if (training) training.not = { required: ['steps', 'epochs'] };
  cached = {
    $schema: generated.$schema,
    $id: SCHEMA_ID,
    title: 'Sparsity Studio pruning experiment',
    ...generated,
  };
  return cached;
}

/** The discriminator key of a union of objects, when every branch pins it with a `const`. */
export function discriminatorOf(branches: JsonSchema[]): string | undefined {
  const first = branches[0]?.properties;
  if (!first) return undefined;
  return Object.keys(first).find((key) => branches.every((b) => b.properties?.[key]?.const !== undefined));
}

/**
 * The object branch a value selects: for a discriminated union, the branch whose `const` equals the
 * value's discriminator; for `anyOf` of scalars and arrays, the branch of the value's JSON type.
 * Returns the union itself when nothing selects a branch.
 */
export function selectBranch(schema: JsonSchema, value: unknown): JsonSchema {
  const branches = schema.oneOf ?? schema.anyOf;
  if (!branches) return schema;
  const key = discriminatorOf(branches);
  if (key !== undefined) {
    const tag = isRecord(value) ? value[key] : undefined;
    return branches.find((b) => b.properties?.[key]?.const === tag) ?? schema;
  }
  const kind = Array.isArray(value) ? 'array' : isRecord(value) ? 'object' : typeof value;
  const match = branches.find((b) => jsonTypes(b).some((t) => t === kind || (t === 'integer' && kind === 'number')));
  return match ?? schema;
}

export function jsonTypes(schema: JsonSchema): string[] {
  if (schema.type) return Array.isArray(schema.type) ? schema.type : [schema.type];
  if (schema.const !== undefined) return [typeof schema.const];
  if (schema.enum) return [...new Set(schema.enum.map((v) => typeof v))];
  return (schema.oneOf ?? schema.anyOf ?? []).flatMap(jsonTypes);
}

/** The schema that governs `path` in a document whose (partial) value is `root`. */
export function schemaAtPath(path: ConfigPath, root: unknown): JsonSchema | undefined {
  let schema: JsonSchema | undefined = experimentJsonSchema();
  let value: unknown = root;
  for (const segment of path) {
    if (!schema) return undefined;
    schema = selectBranch(schema, value);
    const branches = schema.oneOf ?? schema.anyOf;
    if (typeof segment === 'number') {
      const arrayBranch = branches?.find((b) => b.items !== undefined) ?? schema;
      const items: JsonSchema | JsonSchema[] | undefined = arrayBranch.items;
      schema = Array.isArray(items) ? items[segment] : items;
      value = Array.isArray(value) ? (value[segment] as unknown) : undefined;
    } else {
      const objectBranch = branches ? branches.find((b) => b.properties?.[segment]) : schema;
      const extra = schema.additionalProperties; // the entries of `sweep:`, whatever their key
      schema = objectBranch?.properties?.[segment] ?? (typeof extra === 'object' ? extra : undefined);
      value = isRecord(value) ? value[segment] : undefined;
    }
  }
  return schema;
}

/** The keys an object at `path` may have, given the value so far (discriminators resolved). */
export function keysAtPath(path: ConfigPath, root: unknown): { key: string; schema: JsonSchema; required: boolean }[] {
  const schema = schemaAtPath(path, root);
  if (!schema) return [];
  const value = valueAtPath(root, path);
  const chosen = selectBranch(schema, value);
  const branches = chosen.oneOf ?? chosen.anyOf;
  if (branches) {
    // No discriminator yet: offer the discriminator first, then the keys of every branch.
    const seen = new Map<string, { key: string; schema: JsonSchema; required: boolean }>();
    for (const branch of branches) {
      for (const [key, s] of Object.entries(branch.properties ?? {})) {
        if (!seen.has(key)) seen.set(key, { key, schema: s, required: branch.required?.includes(key) ?? false });
      }
    }
    return [...seen.values()];
  }
  return Object.entries(chosen.properties ?? {}).map(([key, s]) => ({
    key,
    schema: s,
    required: chosen.required?.includes(key) ?? false,
  }));
}

export function valueAtPath(root: unknown, path: ConfigPath): unknown {
  let value = root;
  for (const segment of path) {
    if (typeof segment === 'number') value = Array.isArray(value) ? (value[segment] as unknown) : undefined;
    else value = isRecord(value) ? value[segment] : undefined;
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Allowed values of a schema with a finite set: enums, consts, booleans, and their docs. */
export function choicesOf(schema: JsonSchema): { value: unknown; markdown?: string }[] {
  if (schema.enum) {
    const docs = schema.markdownEnumDescriptions ?? schema.enumDescriptions ?? [];
    return schema.enum.map((value, i) => ({ value, markdown: docs[i] }));
  }
  if (schema.const !== undefined) return [{ value: schema.const, markdown: schema.markdownDescription }];
  if (jsonTypes(schema).length === 1 && jsonTypes(schema)[0] === 'boolean' && !schema.oneOf && !schema.anyOf)
    return [{ value: true }, { value: false }];
  const branches = schema.oneOf ?? schema.anyOf;
  return branches ? branches.flatMap(choicesOf) : [];
}

/** A one-line summary of type, range and default for hover and completion details. */
export function describeConstraints(schema: JsonSchema): string {
  const parts: string[] = [];
  const branches = schema.oneOf ?? schema.anyOf;
  const typeText = branches ? branches.map(typeLabel).join(' | ') : typeLabel(schema);
  if (typeText) parts.push(typeText);
  if (schema.default !== undefined && !isRecord(schema.default))
    parts.push(`default \`${JSON.stringify(schema.default)}\``);
  return parts.join(' · ');
}

function typeLabel(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(' | ');
  const type = jsonTypes(schema).join('/');
  if (type === 'number' || type === 'integer') {
    const lo =
      schema.exclusiveMinimum !== undefined
        ? `(${schema.exclusiveMinimum}`
        : schema.minimum !== undefined
          ? `[${schema.minimum}`
          : '(-∞';
    const hi =
      schema.exclusiveMaximum !== undefined
        ? `${schema.exclusiveMaximum})`
        : schema.maximum !== undefined
          ? `${schema.maximum}]`
          : '∞)';
    return lo === '(-∞' && hi === '∞)' ? type : `${type} in ${lo}, ${hi}`;
  }
  if (type === 'array') {
    if (Array.isArray(schema.items)) return `[${schema.items.map(typeLabel).join(', ')}]`;
    const item = schema.items ? typeLabel(schema.items) : '';
    return item ? `list of ${item}` : 'list';
  }
  return type;
}
