/**
 * Where the user's native TensorFlow binding (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`)
 * is looked for, which one is used, and why every other one is not. Folders, in this order: the
 * `sparsityStudio.engine.modulePaths` setting (`SPARSITY_STUDIO_MODULE_PATHS` for the CLI), the
 * workspace folders (the CLI's working directory), the experiment's folder and its parents, and the
 * global npm root. A package must have the version of the bundled tfjs-core: a binding built for
 * another version registers kernels that do not match this engine. The GPU package is preferred
 * wherever it is; the search only reads package.json files, nothing is loaded here.
 */
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { readRegularFile } from '../data/regularFile';
import type { BackendInfo, BackendPackageDto, BackendSearchDto, SearchOriginDto } from '@protocol';

export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** One folder searched for packages (it holds `node_modules`, or is one). */
export interface SearchFolder {
  dir: string;
  origin: SearchOriginDto;
}

/** What to search, before it is expanded into folders. */
export interface SearchPlaces {
  /** From the setting or `SPARSITY_STUDIO_MODULE_PATHS`. */
  modulePaths?: readonly string[];
  /** The editor's workspace folders; the CLI passes its working directory. */
  workspace?: readonly string[];
  /** The experiment file's folder: it and every parent are searched. */
  experimentDir?: string;
  /** npm's global `node_modules`; default: found by `globalNpmRoot()`; null: not searched. */
  globalRoot?: string | null;
}

/** `SPARSITY_STUDIO_MODULE_PATHS`: folders separated like PATH (`:`, or `;` on Windows). */
export function modulePathsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env['SPARSITY_STUDIO_MODULE_PATHS'] ?? '').split(delimiter).filter((p) => p.trim() !== '');
}

/** The `prefix=` of an npmrc file, if it sets one. */
function npmrcPrefix(home: string): string | null {
  try {
    const npmrc = readRegularFile(join(home, '.npmrc'), 1024 * 1024).toString('utf8');
    const line = /^\s*prefix\s*=\s*(.+?)\s*$/m.exec(npmrc);
    return line ? line[1]!.replace(/^~(?=\/|\\|$)/, home) : null;
  } catch {
    return null;
  }
}

/** The folder `node` runs from on PATH (through symlinks, as nvm and Debian install it), or null. */
function nodeOnPath(env: NodeJS.ProcessEnv): string | null {
  const names = process.platform === 'win32' ? ['node.exe'] : ['node'];
  for (const dir of (env['PATH'] ?? '').split(delimiter).filter(Boolean))
    for (const name of names) {
      const file = join(dir, name);
      if (existsSync(file)) return dirname(realpathSync(file));
    }
  return null;
}

/**
 * npm's global `node_modules`, without running npm (the editor's server may have no npm on PATH,
 * and spawning it costs half a second): `npm_config_prefix`, else the `prefix` of `~/.npmrc`, else
 * the prefix of the `node` on PATH. Unix: `<prefix>/lib/node_modules`; Windows: `<prefix>/node_modules`.
 */
export function globalNpmRoot(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string | null {
  const configured = env['npm_config_prefix'] || env['NPM_CONFIG_PREFIX'] || npmrcPrefix(home);
  const binDir = configured ? null : nodeOnPath(env);
  const prefix = configured ?? (binDir ? (process.platform === 'win32' ? binDir : dirname(binDir)) : null);
  if (!prefix) return null;
  return process.platform === 'win32' ? join(prefix, 'node_modules') : join(prefix, 'lib', 'node_modules');
}

/** The folders of `places` in search order, each once. */
export function searchFolders(places: SearchPlaces): SearchFolder[] {
  const folders: SearchFolder[] = [];
  const seen = new Set<string>();
  const add = (dir: string, origin: SearchOriginDto) => {
    const abs = resolve(dir);
    if (seen.has(abs)) return;
    seen.add(abs);
    folders.push({ dir: abs, origin });
  };
  for (const dir of places.modulePaths ?? []) add(dir, 'setting');
  for (const dir of places.workspace ?? []) add(dir, 'workspace');
  if (places.experimentDir !== undefined) {
    let dir = resolve(places.experimentDir);
    add(dir, 'experiment');
    while (dirname(dir) !== dir) {
      dir = dirname(dir);
      add(dir, 'experiment');
    }
  }
  const globalRoot = places.globalRoot === undefined ? globalNpmRoot() : places.globalRoot;
  if (globalRoot) add(globalRoot, 'global');
  return folders;
}

/** Where `name` would be installed under a search folder. */
function packageDir(folder: string, name: string): string {
  return basename(folder) === 'node_modules' ? join(folder, name) : join(folder, 'node_modules', name);
}

const installHint = (name: string, version: string) => `npm install ${name}@${version}`;

/**
 * Every installed copy of `names` under `folders`, in preference order (each name across all
 * folders, then the next name), the first whose version is `version` marked used.
 */
export function findBackendPackage(
  names: readonly string[],
  folders: readonly SearchFolder[],
  version: string,
): BackendSearchDto {
  const candidates: BackendPackageDto[] = [];
  const seen = new Set<string>();
  let chosen: BackendPackageDto | undefined;
  for (const name of names)
    for (const folder of folders) {
      const dir = packageDir(folder.dir, name);
      const manifest = join(dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const real = realpathSync(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      const candidate: BackendPackageDto = {
        package: name,
        version: null,
        path: dir,
        origin: folder.origin,
        used: false,
        reason: '',
      };
      try {
        // A regular file of reasonable size only: a FIFO named package.json must not block the search.
        const text = readRegularFile(manifest, 1024 * 1024).toString('utf8');
        const found = (JSON.parse(text) as { version?: unknown }).version;
        candidate.version = typeof found === 'string' ? found : null;
      } catch (error) {
        candidate.reason = `its package.json cannot be read (${(error as Error).message})`;
      }
      if (candidate.reason) {
        // unreadable: listed, never used
      } else if (chosen) {
        candidate.reason = `${chosen.package} ${chosen.version} in ${chosen.path} comes first`;
      } else if (candidate.version !== version) {
        candidate.reason = `version ${candidate.version ?? '(none)'} does not match the bundled @tensorflow/tfjs-core ${version}: \`${installHint(name, version)}\``;
      } else {
        candidate.used = true;
        candidate.reason = `version ${version} matches the bundled tfjs-core`;
        chosen = candidate;
      }
      candidates.push(candidate);
    }
  return { folders: folders.map((f) => ({ dir: f.dir, origin: f.origin })), candidates };
}

const ORIGIN_LABELS: Record<SearchOriginDto, string> = {
  setting: 'setting',
  workspace: 'workspace',
  experiment: 'experiment folder',
  global: 'global npm root',
};

/** The search as lines of text: what Show Backend Information and `sparsity-studio backends` print. */
export function describeSearch(search: BackendSearchDto, version: string): string[] {
  const lines = [`native TensorFlow (${NATIVE_PACKAGES.join(', ')} at version ${version}), searched in:`];
  for (const folder of search.folders) lines.push(`  ${ORIGIN_LABELS[folder.origin].padEnd(17)} ${folder.dir}`);
  if (search.candidates.length === 0) {
    lines.push(
      `  none installed there; for an NVIDIA GPU: \`${installHint(NATIVE_PACKAGES[0], version)}\` (CUDA 11.2, cuDNN 8.1, Linux or Windows x64)`,
    );
  }
  for (const c of search.candidates)
    lines.push(
      `  ${c.used ? '✔ used' : '✖ not used'}: ${c.package} ${c.version ?? '?'} at ${c.path} (${ORIGIN_LABELS[c.origin]}): ${c.reason}`,
    );
  return lines;
}

/** A backend choice with every attempt, the details and the search, as lines of text. */
export function describeBackendInfo(info: BackendInfo): string[] {
  const lines = [`backend ${info.requested} → ${info.name}`];
  for (const a of info.attempts) lines.push(`  ${a.used ? '✔' : '✖'} ${a.backend}: ${a.reason}`);
  for (const [key, value] of Object.entries(info.details)) lines.push(`  ${key}: ${String(value)}`);
  if (info.search) lines.push(...describeSearch(info.search, String(info.details['tfjs'])));
  return lines;
}
