/**
 * A run that dies on purpose, for the "nothing lost" tests: started as its own process
 * (`node --import tsx test/helpers/killedRun.ts FILE OUT_DIR STEP`), it prints its run folder and
 * sends itself SIGKILL once step STEP has been reported, so no handler, `finally` or flush runs:
 * the folder is left exactly as a crash at that instant leaves it.
 */
import { runExperiment } from '../../server/src/runs/runExperiment';

const [file, outputDir, stepText] = process.argv.slice(2);
const killAt = Number(stepText);
if (!file || !outputDir || !Number.isInteger(killAt)) {
  process.stderr.write('usage: killedRun.ts FILE OUT_DIR STEP\n');
  process.exit(2);
}

void runExperiment(file, {
  outputDir,
  onStart: (_info, dir) => process.stdout.write(`run folder: ${dir}\n`),
  onEvent: (event) => {
    if (event.type === 'step' && event.step >= killAt) process.kill(process.pid, 'SIGKILL');
  },
}).then(() => {
  process.stderr.write(`the run ended before step ${killAt}\n`);
  process.exit(3);
});
