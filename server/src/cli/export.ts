/** `sparsity-studio export RUN_DIR [--out DIR]`: the folded model of a run's last checkpoint. */
import { relative } from 'node:path';
import { exportRun } from '../runs/runExperiment';
import type { CommandSpec } from './args';
import type { CliIo, ParsedCommand } from './io';

export const EXPORT: CommandSpec = {
  name: 'export',
  summary: "Fold a run's last checkpoint into a TF.js model and the block-sparse format.",
  positionals: { names: 'RUN_DIR', min: 1, max: 1 },
  options: { out: { type: 'string', value: 'DIR', description: 'Where to write (default: RUN_DIR/export).' } },
  notes: ['exit status: 0 written, 1 nothing could be exported, 2 bad usage.'],
};

export async function exportCommand({ options, positionals }: ParsedCommand, io: CliIo): Promise<number> {
  const dir = positionals[0]!;
  const out = options['out'] as string | undefined;
  try {
    const result = await exportRun(dir, out === undefined ? {} : { outDir: out });
    for (const warning of result.warnings) io.error(`warning: ${warning}`);
    if (result.files.length === 0) {
      io.error(`sparsity-studio export: nothing was written for ${dir}`);
      return 1;
    }
    io.out(`export: step ${result.step} of ${dir} folded (W ⊙ A ⊙ mask) into ${result.files.length} files:`);
    for (const file of result.files) io.out(`  ${relative(process.cwd(), file) || file}`);
    return 0;
  } catch (error) {
    io.error(`sparsity-studio export: ${(error as Error).message}`);
    return 1;
  }
}
