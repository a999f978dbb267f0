/** `sparsity-studio export RUN_DIR [--out DIR]`: the folded model of a run's last checkpoint. */
import { relative } from 'node:path';
import { exportRun } from '../runs/runExperiment';
import type { CliIo } from './io';

export const EXPORT_USAGE = 'sparsity-studio export RUN_DIR [--out DIR]';

export async function exportCommand(args: string[], io: CliIo): Promise<number> {
  const [dir, flag, out] = args;
  if (!dir || dir.startsWith('--') || args.length > 3 || (flag !== undefined && (flag !== '--out' || !out))) {
    io.error(`usage: ${EXPORT_USAGE}`);
    return 2;
  }
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
