/** Where CLI commands write: the real streams in `cli.ts`, buffers in tests. */
export interface CliIo {
  out(line: string): void;
  error(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};
