/**
 * The diagnostics of experiment files: one table of stable codes (documented in the README and
 * shown by `sparsity-studio check`), and the plain data types the validator returns. The LSP
 * adapter and the CLI translate these; nothing here knows about either.
 */
import type { Range } from './yamlDocument';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export type DiagnosticLevel = 'syntax' | 'schema' | 'model';

interface CodeInfo {
  level: DiagnosticLevel;
  severity: Severity;
  summary: string;
}

/** Every diagnostic code, its level and its usual severity. Codes never change once shipped. */
export const DIAGNOSTIC_CODES = {
  'yaml-syntax': { level: 'syntax', severity: 'error', summary: 'The text is not valid YAML.' },
  'duplicate-key': { level: 'syntax', severity: 'error', summary: 'A key appears twice in the same mapping.' },
  'bad-encoding': {
    level: 'syntax',
    severity: 'error',
    summary: 'The file is not UTF-8 text (UTF-16, or binary): save it as UTF-8.',
  },
  'unknown-key': {
    level: 'schema',
    severity: 'error',
    summary: 'A key the format does not have (with "did you mean").',
  },
  'wrong-type': { level: 'schema', severity: 'error', summary: 'A value of the wrong type.' },
  'out-of-range': { level: 'schema', severity: 'error', summary: 'A number outside its allowed range.' },
  'bad-enum': { level: 'schema', severity: 'error', summary: 'A value that is not one of the allowed choices.' },
  'bad-format': { level: 'schema', severity: 'error', summary: 'A string that does not have the required form.' },
  'missing-required': { level: 'schema', severity: 'error', summary: 'A required key is missing.' },
  'mutually-exclusive': { level: 'schema', severity: 'error', summary: 'Two keys that cannot be used together.' },
  'block-edge': {
    level: 'model',
    severity: 'information',
    summary: 'The block shape does not divide a layer: its last block row or column is smaller.',
  },
  'block-too-large': {
    level: 'model',
    severity: 'warning',
    summary: 'The block is larger than a pruned layer: the layer is one block.',
  },
  'min-blocks-skip': {
    level: 'model',
    severity: 'warning',
    summary: 'Layers with fewer than `min_blocks` blocks stay dense.',
  },
  'sparsity-gap': {
    level: 'model',
    severity: 'warning',
    summary: 'The achieved global sparsity is far below the target because some layers stay dense.',
  },
  'nothing-pruned': { level: 'model', severity: 'warning', summary: 'No layer is pruned at all.' },
  'schedule-sum': { level: 'model', severity: 'error', summary: 'Schedule fractions do not add up to 1.' },
  'phase-too-short': {
    level: 'model',
    severity: 'warning',
    summary: 'A phase is shorter than one training step: too few steps for the schedule.',
  },
  'pattern-no-match': { level: 'model', severity: 'warning', summary: 'A layer name or glob matches no layer.' },
  'path-missing': { level: 'model', severity: 'error', summary: 'A data or model file that does not exist.' },
  'path-unusable': {
    level: 'model',
    severity: 'error',
    summary:
      'A path of the wrong kind: a data or model file that is a folder, a FIFO, a device or unreadable, or an output folder that is a file.',
  },
  'model-invalid': {
    level: 'model',
    severity: 'error',
    summary: 'The model cannot be built for this data (shapes, unsupported layers).',
  },
  'sweep-large': {
    level: 'schema',
    severity: 'warning',
    summary: 'A sweep of more than 200 runs (the product of its lists).',
  },
  'memory-estimate': {
    level: 'model',
    severity: 'warning',
    summary:
      'A run would need more memory than the machine has or the backend can address (error), or most of it (warning).',
  },
  'model-unchecked': {
    level: 'model',
    severity: 'information',
    summary: 'Model-aware checks are skipped because the input shape cannot be known yet.',
  },
  'data-download': {
    level: 'model',
    severity: 'information',
    summary: 'Fashion-MNIST is not on this machine yet: the first run downloads it once into the user cache.',
  },
} as const satisfies Record<string, CodeInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface TextEdit {
  range: Range;
  newText: string;
}

/** A quick fix: a titled set of edits to the same document. */
export interface Fix {
  title: string;
  edits: TextEdit[];
  /** The fix the editor may apply on save or "fix all". */
  preferred?: boolean;
}

export interface ExperimentDiagnostic {
  range: Range;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  fixes: Fix[];
  /**
   * Where its quick fixes are offered, when wider than `range`: a schedule whose fractions do not
   * add up is marked on its `schedule` key, but fixed from any line of it (`cycles: 9` included).
   */
  fixRange?: Range;
}

export const DIAGNOSTIC_SOURCE = 'sparsity-studio';

export function diagnostic(
  code: DiagnosticCode,
  range: Range,
  message: string,
  options: { severity?: Severity; fixes?: Fix[]; fixRange?: Range } = {},
): ExperimentDiagnostic {
  return {
    range,
    severity: options.severity ?? DIAGNOSTIC_CODES[code].severity,
    code,
    message,
    fixes: options.fixes ?? [],
    ...(options.fixRange && { fixRange: options.fixRange }),
  };
}
