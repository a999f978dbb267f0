/**
 * The pruning methods, one row each: a new method is a module in this folder plus a row here, and
 * the compiler then asks for its engine part (server/src/engine/methods/) and the wire's method
 * list (protocol/run.ts). The `pruning` section of the format is the union of the rows' schemas.
 */
import { z } from 'zod';
import type { RunInfo } from '@protocol';
import { acdcFormat } from './acdc';
import { magnitudeFormat } from './magnitude';
import type { MethodSchedule } from './methodFormat';
import { noneFormat } from './none';
import { sappFormat } from './sapp';

/** In this order in the JSON Schema, completion and hover. */
export const METHOD_FORMATS = {
  sapp: sappFormat,
  acdc: acdcFormat,
  magnitude: magnitudeFormat,
  none: noneFormat,
};

export type PruningMethod = keyof typeof METHOD_FORMATS;

type Format = (typeof METHOD_FORMATS)[PruningMethod];
const schemas = Object.values(METHOD_FORMATS).map((f): Format['schema'] => f.schema);
export const PruningSchema = z.discriminatedUnion('method', schemas as [Format['schema'], ...Format['schema'][]]);
export type PruningConfig = z.output<typeof PruningSchema>;
/** The `pruning` section when `method` is `M`. */
export type MethodConfig<M extends PruningMethod> = Extract<PruningConfig, { method: M }>;

/** The schedule side of `pruning`'s method. */
export function methodFormat(pruning: PruningConfig): MethodSchedule<PruningConfig> {
  return METHOD_FORMATS[pruning.method];
}

/** Target sparsity `s` of every pruned layer at the end of training (0 when the method prunes nothing). */
export function targetSparsity(pruning: PruningConfig): number {
  return methodFormat(pruning).prunes ? (pruning.sparsity ?? 0) : 0;
}

// The lookups above read the row named by `pruning.method`: each row's key must be its schema's tag.
type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type MisnamedRows = {
  [M in PruningMethod]: Equal<z.output<(typeof METHOD_FORMATS)[M]['schema']>['method'], M> extends true ? never : M;
}[PruningMethod];
true satisfies Equal<MisnamedRows, never>;
// protocol/ cannot import the server, so RunInfo spells the methods out: a new row must be added there too.
true satisfies Equal<RunInfo['method'], PruningMethod>;
