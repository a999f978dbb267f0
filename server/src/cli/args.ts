/**
 * Each command's arguments, declared once: `node:util` parseArgs reads them (`--steps 5` and
 * `--steps=5` alike), choices and integers are checked here, and the same declaration prints the
 * command's usage and `--help`. Anything unknown or invalid is a `UsageError`: the CLI prints it
 * with the command's usage and exits 2.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  /** `string` options take a value; `boolean` ones are flags. */
  type: 'string' | 'boolean';
  /** What the value is called in the usage line (`N`, `DIR`). */
  value?: string;
  choices?: readonly string[];
  integer?: { min: number };
  /** Only with a `string` type: the option may be given several times. */
  multiple?: boolean;
  description: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments as they read in the usage line (`FILE...`, `RUN_DIR`). */
  positionals: { names: string; min: number; max: number };
  options: Record<string, OptionSpec>;
  /** A second form of the command, shown as another usage line (`run --resume RUN_DIR`). */
  alternative?: string;
  /** Extra lines for `--help`: exit codes, what `-` means. */
  notes?: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type ParsedOptions = Record<string, string | boolean | string[] | undefined>;

const HELP: OptionSpec = { type: 'boolean', description: 'Print this help and exit.' };

export function usageLine(spec: CommandSpec): string {
  const options = Object.entries(spec.options).map(([name, o]) => {
    const value = o.type === 'string' ? ` ${o.choices ? o.choices.join('|') : (o.value ?? 'VALUE')}` : '';
    return `[--${name}${value}]`;
  });
  const lines = [`sparsity-studio ${spec.name} ${[spec.positionals.names, ...options].filter(Boolean).join(' ')}`];
  if (spec.alternative) lines.push(`sparsity-studio ${spec.name} ${spec.alternative}`);
  return lines.join('\n       ');
}

export function helpText(spec: CommandSpec): string {
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary, '', 'options:'];
  const all = { ...spec.options, help: HELP };
  const labels = Object.entries(all).map(([name, o]) => {
    const short = name === 'help' ? '-h, ' : '    ';
    return `${short}--${name}${o.type === 'string' ? ` ${o.choices ? o.choices.join('|') : (o.value ?? 'VALUE')}` : ''}`;
  });
  const width = Math.max(...labels.map((l) => l.length));
  Object.values(all).forEach((o, i) => lines.push(`  ${labels[i]!.padEnd(width)}  ${o.description}`));
  if (spec.notes) lines.push('', ...spec.notes);
  return lines.join('\n');
}

/**
 * The command's options and positionals, or `'help'` when `--help`/`-h` was given. Throws a
 * `UsageError` for an unknown option, a missing or extra argument, or a value outside its choices.
 */
export function parseCommand(
  spec: CommandSpec,
  args: string[],
): { options: ParsedOptions; positionals: string[] } | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: {
        ...Object.fromEntries(
          Object.entries(spec.options).map(([name, o]) => [name, { type: o.type, multiple: o.multiple ?? false }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--oops'" or "Option '--steps <value>' argument missing".
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values['help'] === true) return 'help';
  const { positionals } = parsed;
  const { min, max, names } = spec.positionals;
  if (positionals.length < min) throw new UsageError(`missing ${names.replace(/\.\.\.$/, '')}`);
  if (positionals.length > max)
    throw new UsageError(
      `unexpected argument ${JSON.stringify(positionals[max])} (${names || 'no arguments'} expected)`,
    );
  const options: ParsedOptions = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const value = parsed.values[name] as string | boolean | string[] | undefined;
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one !== 'string') continue;
      if (o.choices && !o.choices.includes(one))
        throw new UsageError(`--${name} must be one of ${o.choices.join(', ')}, not ${JSON.stringify(one)}`);
      if (o.integer && !(/^\d+$/.test(one) && Number(one) >= o.integer.min))
        throw new UsageError(`--${name} must be an integer of at least ${o.integer.min}, not ${JSON.stringify(one)}`);
      if (one === '') throw new UsageError(`--${name} needs a value`);
    }
    options[name] = value;
  }
  return { options, positionals };
}
