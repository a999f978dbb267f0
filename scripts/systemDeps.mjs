// What the tests need from the system beyond `npm ci`, found where it is or installed with apt when
// this runs as root; otherwise the exact command is printed. `npm test` calls it before the layers
// that need something; test/e2e/setup.sh before building code-server.
//   node scripts/systemDeps.mjs [--check] NEED...      NEED: chromium, code-server-build, or a layer
//                                                       (webview, e2e); --check never installs
// Exit 0 when everything is there (CHROMIUM_PATH=... is printed for chromium), 1 otherwise.
// SPARSITY_STUDIO_NO_INSTALL=1 makes every call a --check.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** An executable file named `name` on PATH, or null. */
function onPath(name, env) {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  return null;
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Chromium for the webview and e2e layers: `$CHROMIUM_PATH` when set (and then only it), else
 * Debian's /usr/bin/chromium, else chromium, chromium-browser or Google Chrome on PATH.
 */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) return isExecutable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  if (isExecutable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    const found = onPath(name, env);
    if (found) return found;
  }
  return null;
}

/** Each need: what uses it, where it is (null: missing), its Debian packages, what else to do. */
export const NEEDS = {
  chromium: {
    why: 'headless Chromium runs the dashboards (webview layer) and drives VS Code (e2e layer)',
    find: findChromium,
    packages: ['chromium'],
    otherwise: 'or set CHROMIUM_PATH to a Chromium or Chrome binary',
  },
  'code-server-build': {
    why: "code-server's native modules build against Kerberos headers when the e2e layer installs it",
    find: (env) => {
      const pkgConfig = onPath('pkg-config', env);
      if (!pkgConfig) return null;
      const krb5 = spawnSync(pkgConfig, ['--exists', 'krb5-gssapi'], { env });
      return krb5.status === 0 ? pkgConfig : null;
    },
    packages: ['pkg-config', 'libkrb5-dev'],
    otherwise: 'or the equivalent Kerberos development package of your system',
  },
};

export const LAYER_NEEDS = { webview: ['chromium'], e2e: ['chromium'] };

const installCommand = (packages, root) => {
  const sudo = root ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages.join(' ')}`;
};

/**
 * Finds each need, installs the missing ones with apt-get when running as root (and `install`),
 * and returns `{ ok, found: {need: path}, advice: string[] }`; `log` gets one line per step.
 */
export function ensureSystemDeps(needs, { install = true, env = process.env, log = console.log } = {}) {
  const ids = [...new Set(needs.flatMap((n) => LAYER_NEEDS[n] ?? [n]))];
  for (const id of ids)
    if (!NEEDS[id]) throw new Error(`unknown need "${id}"; needs: ${Object.keys(NEEDS).join(', ')}`);
  const missing = () => ids.filter((id) => NEEDS[id].find(env) === null);
  let absent = missing();
  const root = process.getuid?.() === 0;
  const apt = onPath('apt-get', env);
  const allowed = install && env.SPARSITY_STUDIO_NO_INSTALL !== '1';
  if (absent.length > 0 && root && apt && allowed) {
    const packages = absent.flatMap((id) => NEEDS[id].packages);
    log(`[system] installing ${packages.join(' ')} (apt-get, as root) for: ${absent.join(', ')}`);
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync(apt, ['update', '-qq'], { env: aptEnv, stdio: 'inherit' });
    const result =
      update.status === 0
        ? spawnSync(apt, ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
            env: aptEnv,
            stdio: ['ignore', 'ignore', 'inherit'],
          })
        : update;
    if (result.status !== 0) log(`[system] apt-get failed (exit ${result.status ?? result.signal})`);
    absent = missing();
  }
  const advice = absent.map((id) => {
    const need = NEEDS[id];
    const how = apt
      ? `install it with: ${installCommand(need.packages, root)}`
      : `install ${need.packages.join(', ')} with your package manager`;
    return `${id} is missing (${need.why}); ${how} (${need.otherwise})`;
  });
  const found = Object.fromEntries(ids.filter((id) => !absent.includes(id)).map((id) => [id, NEEDS[id].find(env)]));
  return { ok: absent.length === 0, found, advice };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const needs = args.filter((a) => !a.startsWith('--'));
  if (needs.length === 0) {
    console.error(
      `usage: node scripts/systemDeps.mjs [--check] NEED...  (${Object.keys(NEEDS).join(', ')}, webview, e2e)`,
    );
    process.exit(2);
  }
  const { ok, found, advice } = ensureSystemDeps(needs, { install: !args.includes('--check') });
  if (found.chromium) console.log(`CHROMIUM_PATH=${found.chromium}`);
  for (const line of advice) console.error(`[system] ${line}`);
  process.exit(ok ? 0 : 1);
}
