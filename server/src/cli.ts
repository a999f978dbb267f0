/**
 * The `sparsity-studio` command line: the same experiment checks and engine as the editor,
 * headless. Commands are a table; each returns its exit code.
 */
import { checkCommand, CHECK_USAGE } from './cli/check';
import { exportCommand, EXPORT_USAGE } from './cli/export';
import { processIo, type CliIo } from './cli/io';
import { compareCommand, COMPARE_USAGE, reportCommand, REPORT_USAGE } from './cli/report';
import { runCommand, RUN_USAGE } from './cli/run';

interface CliCommand {
  usage: string;
  summary: string;
  run(args: string[], io: CliIo): number | Promise<number>;
}

export const COMMANDS: Record<string, CliCommand> = {
  check: { usage: CHECK_USAGE, summary: 'Validate experiment files and print their diagnostics.', run: checkCommand },
  run: { usage: RUN_USAGE, summary: 'Run one pruning experiment into a new run folder.', run: runCommand },
  export: {
    usage: EXPORT_USAGE,
    summary: "Fold a run's last checkpoint into a TF.js model and the block-sparse format.",
    run: exportCommand,
  },
  report: { usage: REPORT_USAGE, summary: 'Write a self-contained HTML report of one run.', run: reportCommand },
  compare: { usage: COMPARE_USAGE, summary: 'Compare several runs in one table.', run: compareCommand },
};

function help(io: CliIo): void {
  io.out('usage: sparsity-studio <command> [options]\n');
  for (const [name, command] of Object.entries(COMMANDS))
    io.out(`  ${name.padEnd(9)} ${command.summary}\n            ${command.usage}`);
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.error(`unknown command "${name}"`);
    help(io);
    return 2;
  }
  return command.run(args, io);
}

/** Runs the CLI on this process's arguments and sets its exit code. */
export function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `sparsity-studio: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runCli();
