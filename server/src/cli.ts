/**
 * The `sparsity-studio` command line: the same experiment checks and engine as the editor,
 * headless. Commands are a table of their argument declarations (cli/args.ts) and handlers; each
 * handler returns its exit code: 0 success, 1 failure (errors found, a failed run), 2 bad usage,
 * 130 a run cancelled by a signal.
 */
import { BACKENDS, backendsCommand } from './cli/backends';
import { CHECK, checkCommand } from './cli/check';
import { EXPORT, exportCommand } from './cli/export';
import { helpText, parseCommand, usageLine, UsageError, type CommandSpec } from './cli/args';
import { processIo, type CliIo, type ParsedCommand } from './cli/io';
import { COMPARE, compareCommand, REPORT, reportCommand } from './cli/report';
import { RUN, runCommand } from './cli/run';
import { SPARSITY_STUDIO_VERSION } from './experiment/version';

interface CliCommand {
  spec: CommandSpec;
  run(parsed: ParsedCommand, io: CliIo): number | Promise<number>;
}

export const COMMANDS: Record<string, CliCommand> = {
  check: { spec: CHECK, run: checkCommand },
  run: { spec: RUN, run: runCommand },
  export: { spec: EXPORT, run: exportCommand },
  report: { spec: REPORT, run: reportCommand },
  compare: { spec: COMPARE, run: compareCommand },
  backends: { spec: BACKENDS, run: backendsCommand },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'usage: sparsity-studio <command> [options]   (sparsity-studio help <command>, or <command> --help)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.spec.summary}`),
    '',
    '  --version  print the version;  --help  this list',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.error(overview());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    io.out(overview());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(SPARSITY_STUDIO_VERSION);
    return 0;
  }
  if (name === 'help') {
    const topic = args[0];
    if (topic === undefined) io.out(overview());
    else if (COMMANDS[topic]) io.out(helpText(COMMANDS[topic].spec));
    else {
      io.error(`sparsity-studio: no command "${topic}"\n\n${overview()}`);
      return 2;
    }
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.error(`sparsity-studio: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  try {
    const parsed = parseCommand(command.spec, args);
    if (parsed === 'help') {
      io.out(helpText(command.spec));
      return 0;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(
      `sparsity-studio ${name}: ${error.message}\nusage: ${usageLine(command.spec)}\n(sparsity-studio ${name} --help for more)`,
    );
    return 2;
  }
}

/**
 * Runs the CLI on these arguments (this process's by default) and sets its exit code. A reader that
 * goes away (`check ... | head -1`) ends the output quietly; an unexpected error prints its message,
 * and its stack only with SPARSITY_STUDIO_DEBUG=1.
 */
export function runCli(argv: string[] = process.argv.slice(2)): void {
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const debug = process.env['SPARSITY_STUDIO_DEBUG'] === '1';
      const text = error instanceof Error ? ((debug ? error.stack : undefined) ?? error.message) : String(error);
      process.stderr.write(`sparsity-studio: ${text}\n`);
      process.exitCode = 1;
    },
  );
}

// Only as its own entry (dist/cli.js, or cli.ts through tsx); dist/server.js runs it with `--cli`.
if (require.main === module && /cli\.[jt]s$/.test(__filename)) runCli();
