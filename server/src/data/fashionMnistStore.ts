/**
 * Where Fashion-MNIST comes from when an experiment gives no `data.path`: the user cache
 * (`$XDG_CACHE_HOME` or `~/.cache`, then `sparsity-studio/datasets/fashion-mnist`), Debian's
 * `dataset-fashion-mnist` folder, else a one-time download from Zalando's mirror into the cache.
 * Nothing is ever written next to the extension, so an update never loses the data.
 *
 * Checksums: a downloaded `.gz` is accepted when its SHA-256 is the canonical one (Zalando's files,
 * as TensorFlow Datasets lists them) or, failing that, when the decompressed IDX payload has the
 * known SHA-256 and size. The second rule accepts a mirror that recompressed the same data (Debian's
 * copies are such repacks: their `.gz` differ, their payloads do not); it costs one gunzip of 31 MB
 * only when the first check fails. The payload hashes were computed from Debian's files.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { DataError } from './dataset';

/** The four standard files, without `.gz`. */
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
export type FashionMnistFile = (typeof FASHION_MNIST_FILES)[keyof typeof FASHION_MNIST_FILES];

/** Zalando's own mirror (an S3 website endpoint: plain HTTP, so the checksums carry the trust). */
export const FASHION_MNIST_MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

/** Debian's `dataset-fashion-mnist` package. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface FileChecksum {
  /** The `.gz` as the canonical mirror serves it. */
  gz: { bytes: number; sha256: string };
  /** The decompressed IDX file. */
  idx: { bytes: number; sha256: string };
}

export const FASHION_MNIST_CHECKSUMS: Record<FashionMnistFile, FileChecksum> = {
  'train-images-idx3-ubyte': {
    gz: { bytes: 26_421_880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
    idx: { bytes: 47_040_016, sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888' },
  },
  'train-labels-idx1-ubyte': {
    gz: { bytes: 29_515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
    idx: { bytes: 60_008, sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9' },
  },
  't10k-images-idx3-ubyte': {
    gz: { bytes: 4_422_102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
    idx: { bytes: 7_840_016, sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b' },
  },
  't10k-labels-idx1-ubyte': {
    gz: { bytes: 5_148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
    idx: { bytes: 10_008, sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34' },
  },
};

/** Where to look and where to download from; tests point every field at their own folders. */
export interface FashionMnistPlaces {
  /** The user cache folder; downloads land here. */
  cacheDir: string;
  /** Read-only system folders, searched after the cache. */
  systemDirs: string[];
  /** Base URL the four `.gz` files are fetched from (ends with `/`). */
  mirror: string;
  checksums: Record<FashionMnistFile, FileChecksum>;
}

/** The user cache: `$XDG_CACHE_HOME` when set, else `~/.cache`. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const base = env['XDG_CACHE_HOME'] ? env['XDG_CACHE_HOME'] : join(home, '.cache');
  return join(base, 'sparsity-studio', 'datasets', 'fashion-mnist');
}

/**
 * The places for this process. `SPARSITY_STUDIO_FASHION_MNIST_MIRROR` replaces the mirror (a local
 * copy behind a firewall); the checksums stay, so only the same files are accepted.
 */
export function fashionMnistPlaces(env: NodeJS.ProcessEnv = process.env): FashionMnistPlaces {
  const mirror = env['SPARSITY_STUDIO_FASHION_MNIST_MIRROR'] || FASHION_MNIST_MIRROR;
  return {
    cacheDir: userCacheDir(env),
    systemDirs: [DEBIAN_FASHION_MNIST_DIR],
    mirror: mirror.endsWith('/') ? mirror : `${mirror}/`,
    checksums: FASHION_MNIST_CHECKSUMS,
  };
}

/** The file for a standard name in `folder`: `name.gz` first, then `name`; null when neither exists. */
export function findFashionMnistFile(folder: string, name: string): string | null {
  for (const candidate of [`${name}.gz`, name]) {
    const path = join(folder, candidate);
    if (existsSync(path)) return path;
  }
  return null;
}

const hasAllFiles = (folder: string) =>
  Object.values(FASHION_MNIST_FILES).every((name) => findFashionMnistFile(folder, name) !== null);

/** Where the data of an experiment without `data.path` is, or what a run will download. */
export type FashionMnistLocation =
  | { kind: 'found'; folder: string; origin: 'cache' | 'system' }
  | { kind: 'download'; folder: string; url: string; bytes: number };

export function locateFashionMnist(places: FashionMnistPlaces): FashionMnistLocation {
  if (hasAllFiles(places.cacheDir)) return { kind: 'found', folder: places.cacheDir, origin: 'cache' };
  for (const dir of places.systemDirs) if (hasAllFiles(dir)) return { kind: 'found', folder: dir, origin: 'system' };
  const bytes = Object.values(places.checksums).reduce((sum, c) => sum + c.gz.bytes, 0);
  return { kind: 'download', folder: places.cacheDir, url: places.mirror, bytes };
}

export const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** The sentence the editor shows for a download still to come, and the CLI before it starts. */
export function downloadNotice(location: Extract<FashionMnistLocation, { kind: 'download' }>): string {
  return `Fashion-MNIST is not on this machine yet: the first run downloads it (${megabytes(location.bytes)}, checksummed) from ${location.url} into ${location.folder}.`;
}

/** The ways to provide the files without the network; `url` is what could not be fetched. */
export function offlineAdvice(places: FashionMnistPlaces): string {
  return `Either set \`data.path\` to a folder holding the four Fashion-MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), or copy them from ${places.mirror} into ${places.cacheDir} yourself (on Debian: apt-get install dataset-fashion-mnist).`;
}

export interface DownloadProgress {
  file: FashionMnistFile;
  /** The mirror and the folder the files go to. */
  url: string;
  folder: string;
  /** Bytes of all four files received so far (including those already in the cache). */
  received: number;
  total: number;
}

export interface DownloadOptions {
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Attempts per file: a broken transfer resumes from where it stopped. */
  attempts?: number;
}

/** Why a download failed: the network, the server, or the bytes. */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly kind: 'network' | 'http' | 'checksum' | 'truncated' | 'busy',
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

async function sha256OfFile(file: string, gunzip: boolean): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const source = createReadStream(file);
  const stream = gunzip ? source.pipe(createGunzip()) : source;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Null when `file` is one of the accepted forms of `expected` (see the module comment); else why not. */
export async function checksumProblem(file: string, expected: FileChecksum): Promise<string | null> {
  const gz = await sha256OfFile(file, false);
  if (gz.sha256 === expected.gz.sha256 && gz.bytes === expected.gz.bytes) return null;
  let idx: { sha256: string; bytes: number };
  try {
    idx = await sha256OfFile(file, true);
  } catch (error) {
    return `SHA-256 ${gz.sha256} (${gz.bytes} bytes) is not the expected ${expected.gz.sha256} (${expected.gz.bytes} bytes), and it does not decompress (${(error as Error).message})`;
  }
  if (idx.sha256 === expected.idx.sha256 && idx.bytes === expected.idx.bytes) return null;
  return `SHA-256 ${gz.sha256} (${gz.bytes} bytes) is not the expected ${expected.gz.sha256}, nor is its decompressed content the expected one`;
}

/** Another process downloading into the same cache holds `.download.lock` (its pid inside). */
class CacheLock {
  private constructor(private readonly file: string) {}

  static async acquire(dir: string, signal?: AbortSignal): Promise<CacheLock> {
    const file = join(dir, '.download.lock');
    for (;;) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new CacheLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      const age = Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      // An empty file is a lock being written, unless it has stayed empty for seconds.
      const stale = Number.isInteger(holder) && holder > 0 ? !isAlive(holder) : age > 10_000;
      if (stale) {
        rmSync(file, { force: true });
        continue;
      }
      if (signal?.aborted) throw new DownloadError('cancelled while another process was downloading', 'busy');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Fetches `url` into `partial`, continuing after the bytes already there (HTTP Range). Returns when
 * the server says the body is complete; throws `truncated` when the transfer broke (the partial
 * file keeps what arrived).
 */
async function fetchInto(
  url: string,
  partial: string,
  limit: number,
  report: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const offset = existsSync(partial) ? statSync(partial).size : 0;
  let response: Response;
  try {
    response = await fetch(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new DownloadError(
      `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      'network',
    );
  }
  if (response.status === 416 && offset > 0) return; // the partial file already holds everything
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    throw new DownloadError(`${url} answered HTTP ${response.status} ${response.statusText}`.trim(), 'http');
  }
  const resumed =
    response.status === 206 && (response.headers.get('content-range') ?? '').startsWith(`bytes ${offset}-`);
  // A whole-file answer replaces the partial file, but only once its first bytes arrive: a
  // restart that breaks at once must not lose what an earlier attempt kept.
  let handle: FileHandle | undefined;
  let written = resumed ? offset : 0;
  report(written);
  try {
    if (!response.body) throw new DownloadError(`${url} sent no body`, 'truncated');
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      written += chunk.length;
      if (written > limit)
        throw new DownloadError(`${url} sent more than ${limit} bytes: not the expected file`, 'checksum');
      handle ??= await open(partial, resumed ? 'a' : 'w');
      await handle.write(chunk);
      report(written);
    }
  } catch (error) {
    if (error instanceof DownloadError || signal?.aborted) throw error;
    throw new DownloadError(
      `the transfer of ${url} broke after ${written} bytes (${(error as Error).message})`,
      'truncated',
    );
  } finally {
    await handle?.close();
  }
  const length = Number(response.headers.get('content-length') ?? NaN);
  const expectedEnd = Number.isFinite(length) ? (resumed ? offset : 0) + length : written;
  if (written < expectedEnd)
    throw new DownloadError(`the transfer of ${url} stopped at ${written} of ${expectedEnd} bytes`, 'truncated');
  if (!handle && !resumed) await (await open(partial, 'w')).close(); // a complete, empty body
}

/**
 * Downloads the four files into `places.cacheDir` (once: files already there are kept), each
 * through `<name>.gz.partial`, checked, then renamed into place. A broken transfer is resumed
 * (up to `attempts` times, and by the next call when those run out); a checksum mismatch deletes
 * the partial file. Errors are `DownloadError`s; cancelling through `signal` rejects with its reason.
 */
export async function downloadFashionMnist(places: FashionMnistPlaces, options: DownloadOptions = {}): Promise<string> {
  const dir = places.cacheDir;
  mkdirSync(dir, { recursive: true });
  const lock = await CacheLock.acquire(dir, options.signal);
  try {
    const names = Object.values(FASHION_MNIST_FILES);
    const total = names.reduce((sum, n) => sum + places.checksums[n].gz.bytes, 0);
    let done = 0;
    for (const name of names) {
      const expected = places.checksums[name];
      const target = join(dir, `${name}.gz`);
      if (existsSync(target)) {
        done += expected.gz.bytes;
        continue;
      }
      const url = `${places.mirror}${name}.gz`;
      const partial = `${target}.partial`;
      const report = (bytes: number) =>
        options.onProgress?.({ file: name, url: places.mirror, folder: dir, received: done + bytes, total });
      const attempts = options.attempts ?? 3;
      for (let attempt = 1; ; attempt++) {
        try {
          await fetchInto(
            url,
            partial,
            Math.max(2 * expected.gz.bytes, expected.gz.bytes + 1_000_000),
            report,
            options.signal,
          );
          break;
        } catch (error) {
          if (!(error instanceof DownloadError) || error.kind !== 'truncated' || attempt >= attempts) throw error;
        }
      }
      const problem = await checksumProblem(partial, expected);
      if (problem) {
        await rm(partial, { force: true });
        throw new DownloadError(`${url}: ${problem}; the file was discarded`, 'checksum');
      }
      renameSync(partial, target);
      done += expected.gz.bytes;
    }
    return dir;
  } finally {
    lock.release();
  }
}

/**
 * The folder to read for an experiment without `data.path`, downloading first when needed. A
 * failed download becomes a `DataError` at `data.source` with the URL and the other two ways.
 */
export async function fashionMnistFolder(places: FashionMnistPlaces, options: DownloadOptions = {}): Promise<string> {
  const location = locateFashionMnist(places);
  if (location.kind === 'found') return location.folder;
  try {
    return await downloadFashionMnist(places, options);
  } catch (error) {
    if (!(error instanceof DownloadError)) throw error;
    throw new DataError(
      `Fashion-MNIST could not be downloaded: ${error.message}. ${offlineAdvice(places)}`,
      undefined,
      undefined,
      ['data', 'source'],
    );
  }
}
