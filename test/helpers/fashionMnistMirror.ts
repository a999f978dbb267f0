/**
 * A Fashion-MNIST mirror on 127.0.0.1 serving the bundled subset (samples/data/fashion-mnist) with
 * HTTP Range support, and the subset's own checksums (the canonical ones describe the full set).
 * Tests script misbehaviour through `behaviour` and read the requests it saw.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FASHION_MNIST_FILES, type FashionMnistFile, type FileChecksum } from '../../server/src/data/fashionMnistStore';

export const SUBSET_DIR = resolve(__dirname, '../../samples/data/fashion-mnist');
export const FILE_NAMES = Object.values(FASHION_MNIST_FILES);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The `.gz` bytes the mirror serves, by file name (without `.gz`). */
export const SUBSET_FILES = new Map<string, Buffer>(
  FILE_NAMES.map((n) => [n, readFileSync(join(SUBSET_DIR, `${n}.gz`))]),
);
export const SUBSET_CHECKSUMS = Object.fromEntries(
  FILE_NAMES.map((n) => {
    const gz = SUBSET_FILES.get(n)!;
    const idx = gunzipSync(gz);
    return [n, { gz: { bytes: gz.length, sha256: sha256(gz) }, idx: { bytes: idx.length, sha256: sha256(idx) } }];
  }),
) as Record<FashionMnistFile, FileChecksum>;
export const SUBSET_BYTES = FILE_NAMES.reduce((sum, n) => sum + SUBSET_FILES.get(n)!.length, 0);

/** Handles a request itself and returns true, or returns false to let the mirror serve it. */
export type Behaviour = (name: string, req: IncomingMessage, res: ServerResponse) => boolean;

/** Serves `body` (default: the subset's file), honouring `Range: bytes=N-`. */
export function serve(name: string, req: IncomingMessage, res: ServerResponse, body = SUBSET_FILES.get(name)): void {
  if (!body) {
    res.writeHead(404).end('not found');
    return;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  if (range && start >= body.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    return;
  }
  res.writeHead(range ? 206 : 200, {
    'Content-Length': body.length - start,
    ...(range && { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` }),
  });
  res.end(body.subarray(start));
}

export class LocalMirror {
  behaviour: Behaviour = () => false;
  readonly requests: { name: string; range?: string }[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const name = decodeURIComponent((req.url ?? '').slice(1)).replace(/\.gz$/, '');
      this.requests.push({ name, ...(req.headers.range && { range: req.headers.range }) });
      if (!this.behaviour(name, req, res)) serve(name, req, res);
    });
    const server = this.server;
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return this;
  }

  reset(): void {
    this.behaviour = () => false;
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

/** A URL where nothing listens (a port just closed). */
export async function deadUrl(): Promise<string> {
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((done) => closed.close(done));
  return `http://127.0.0.1:${port}/`;
}
