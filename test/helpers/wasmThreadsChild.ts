/**
 * Child process of test/engine/wasmThreads.test.ts: starts the wasm backend with the thread count
 * in argv[2] (run in a worker thread when argv[3] is `worker`), trains a few seeded steps and
 * prints one JSON line. It never calls process.exit: the test checks that the pool lets it end.
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/backends';
import { Rng } from '../../server/src/data/random';

async function main(threads: number): Promise<Record<string, unknown>> {
  const blob = globalThis.Blob;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- compared by identity only
  const createObjectURL = URL.createObjectURL;
  const cores = os.cpus().length;
  const info = await selectBackend('wasm', [], [], { threads });
  const rng = new Rng(1);
  const tensor = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.1 * rng.normal()),
      shape,
    );
  const w1 = tf.variable(tensor([256, 256]));
  const w2 = tf.variable(tensor([256, 10]));
  const x = tensor([128, 256]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 128 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.relu(tf.matMul(x, w1)), w2)),
      true,
    )!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  return {
    threads: info.details['threads'],
    details: info.details,
    losses,
    restored: globalThis.Blob === blob && URL.createObjectURL === createObjectURL && os.cpus().length === cores,
  };
}

const threads = Number(process.argv[2] ?? 1);
if (isMainThread && process.argv[3] === 'worker') {
  // Worker threads do not inherit tsx's loader: register it in the worker first.
  const tsx = require.resolve('tsx/cjs/api');
  const code = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(__filename)});`;
  const worker = new Worker(code, { eval: true, argv: [String(threads)] });
  worker.on('message', (result) => console.log(JSON.stringify(result)));
} else {
  void main(threads).then((result) => {
    if (parentPort) parentPort.postMessage(result);
    else console.log(JSON.stringify(result));
  });
}
