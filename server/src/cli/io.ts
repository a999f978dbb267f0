/** Where CLI commands write and read: the real streams in `cli.ts`, buffers in tests. */
import type { ParsedOptions } from './args';

export interface CliIo {
  out(line: string): void;
  error(line: string): void;
  /** All of standard input, as text (`check -`); the process's own when absent. */
  readStdin?(): Promise<string>;
}

/** A command's arguments once parsed against its `CommandSpec`. */
export interface ParsedCommand {
  options: ParsedOptions;
  positionals: string[];
}

export const processIo: Required<CliIo> = {
  out: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};
