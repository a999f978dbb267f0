/**
 * Planted native-backend packages for the backend search tests: a folder laid out like an install
 * of `@tensorflow/tfjs-node(-gpu)` (package.json with a version, an index.js) whose code registers
 * a real TF.js backend under tfjs-node's name, `tensorflow`: the pure-JS cpu backend's kernels,
 * taken from this project's own tfjs-core and tfjs-backend-cpu so the engine sees the same
 * registry. Each copy records where it was loaded from in `globalThis.__plantedBackendFrom`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PLANTED_MARK = '__plantedBackendFrom';

/** Writes the package under `folder` (into `folder/node_modules`, unless `folder` is a node_modules). */
export function plantNativeBackend(
  folder: string,
  name: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node',
  version: string,
): string {
  const dir = folder.endsWith('node_modules') ? join(folder, name) : join(folder, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  writeFileSync(
    join(dir, 'index.js'),
    `const tf = require(${JSON.stringify(require.resolve('@tensorflow/tfjs-core'))});
const cpu = require(${JSON.stringify(require.resolve('@tensorflow/tfjs-backend-cpu'))});
if (!tf.findBackendFactory('tensorflow')) tf.registerBackend('tensorflow', () => new cpu.MathBackendCPU(), 1);
for (const kernel of tf.getKernelsForBackend('cpu'))
  if (!tf.getKernel(kernel.kernelName, 'tensorflow')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
globalThis.${PLANTED_MARK} = __dirname;
`,
  );
  return dir;
}
