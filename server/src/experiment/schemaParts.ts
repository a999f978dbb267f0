/**
 * Building blocks of the experiment format's zod schema (schema.ts and the methods' own sections in
 * methods/): keys that carry the markdown docs completion and hover show, and common ranges.
 */
import { z } from 'zod';

/** Attaches the docs that completion and hover show (and that the JSON Schema carries). */
export function doc<T extends z.ZodType>(schema: T, markdown: string): T {
  return schema.meta({ description: plainText(markdown), markdownDescription: markdown });
}

function plainText(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1').replace(/\*\*([^*]*)\*\*/g, '$1');
}

/** A string enum whose every value carries its own docs (completion shows them per value). */
export function documentedEnum<const V extends string>(values: Record<V, string>, markdown: string) {
  const keys = Object.keys(values) as [V, ...V[]];
  const docs = keys.map((k) => values[k]);
  return z.enum(keys).meta({
    description: plainText(markdown),
    markdownDescription: markdown,
    enumDescriptions: docs.map(plainText),
    markdownEnumDescriptions: docs,
  });
}

/** The discriminator of one variant of a tagged union, with the docs of that variant. */
export function tag<const V extends string>(value: V, markdown: string) {
  return z.literal(value).meta({ description: plainText(markdown), markdownDescription: markdown });
}

export const int = (min: number, max: number) => z.int().min(min).max(max);
/** A fraction of the total training steps, in [0, 1]. */
export const stepFraction = (markdown: string, fallback: number) =>
  doc(z.number().min(0).max(1), markdown).default(fallback);

export const MAX_STEPS = 100_000_000;
