/**
 * A run that dies on purpose, for the "nothing lost" tests: started as its own process
 * (`node --import tsx test/helpers/killedRun.ts FILE OUT_DIR step|write N`), it prints its run
 * folder and sends itself SIGKILL once step N has been reported, or just before its N-th write to
 * the disk (0-based), so no handler, `finally` or flush runs: the folder is left exactly as a
 * crash at that instant leaves it.
 */
import { onDurableWrite } from '../../server/src/data/durableFile';
import { runExperiment } from '../../server/src/runs/runExperiment';

const [file, outputDir, mode, at] = process.argv.slice(2);
const killAt = Number(at);
if (!file || !outputDir || (mode !== 'step' && mode !== 'write') || !Number.isInteger(killAt)) {
  process.stderr.write('usage: killedRun.ts FILE OUT_DIR step|write N\n');
  process.exit(2);
}
const die = () => process.kill(process.pid, 'SIGKILL');

let writes = 0;
if (mode === 'write') onDurableWrite(() => (writes++ === killAt ? die() : undefined));
void runExperiment(file, {
  outputDir,
  onStart: (_info, dir) => process.stdout.write(`run folder: ${dir}\n`),
  onEvent: (event) => {
    if (mode === 'step' && event.type === 'step' && event.step >= killAt) die();
  },
}).then(() => {
  process.stderr.write(`the run ended before ${mode} ${killAt}\n`);
  process.exit(3);
});
