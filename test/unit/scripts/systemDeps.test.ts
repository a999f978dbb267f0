/**
 * scripts/systemDeps.mjs on a machine that lacks what the tests need, simulated without touching
 * the system: CHROMIUM_PATH points at a missing file, and fake `apt-get` and `pkg-config` on PATH
 * stand in for Debian's (the fake apt-get "installs" by creating the files the checks look for).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../../helpers/experimentFixtures';

const dir = mkdtempSync(join(tmpdir(), 'sparsity-sysdeps-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = process.getuid?.() === 0;

/** A folder with fake apt-get and pkg-config that log their arguments to `log`. */
function fakeSystem(name: string) {
  const bin = join(dir, name, 'bin');
  const chromium = join(dir, name, 'chromium');
  const krb5 = join(dir, name, 'krb5-installed');
  const log = join(dir, name, 'apt.log');
  spawnSync('mkdir', ['-p', bin]);
  const script = (file: string, body: string) => {
    writeFileSync(join(bin, file), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, file), 0o755);
  };
  script(
    'apt-get',
    `echo "$@" >> ${log}
case "$*" in *chromium*) printf '#!/bin/sh\\n' > ${chromium}; chmod +x ${chromium};; esac
case "$*" in *libkrb5-dev*) touch ${krb5};; esac`,
  );
  script('pkg-config', `[ "$1 $2" = "--exists krb5-gssapi" ] && [ -f ${krb5} ]`);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:/usr/bin:/bin`, CHROMIUM_PATH: chromium };
  delete env['SPARSITY_STUDIO_NO_INSTALL'];
  return { bin, chromium, log, env };
}

const systemDeps = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [join(ROOT, 'scripts/systemDeps.mjs'), ...args], { env, encoding: 'utf8' });

describe('scripts/systemDeps.mjs', () => {
  it('--check names what is missing and the exact command, and installs nothing', () => {
    const fake = fakeSystem('check');
    const result = systemDeps(['--check', 'e2e', 'code-server-build'], fake.env);
    assert.equal(result.status, 1);
    const sudo = root ? '' : 'sudo ';
    assert.ok(
      result.stderr.includes(
        `chromium is missing (headless Chromium runs the dashboards (webview layer) and drives VS Code (e2e layer)); install it with: ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH to a Chromium or Chrome binary)`,
      ),
      result.stderr,
    );
    assert.match(
      result.stderr,
      /code-server-build is missing .* apt-get install -y --no-install-recommends pkg-config libkrb5-dev/,
    );
    assert.ok(!existsSync(fake.log), 'apt-get was not run');
  });

  it('as root, installs the missing packages with apt-get and finds them', { skip: !root && 'needs root' }, () => {
    const fake = fakeSystem('install');
    const result = systemDeps(['e2e', 'code-server-build'], fake.env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').at(-1), `CHROMIUM_PATH=${fake.chromium}`);
    assert.deepEqual(readFileSync(fake.log, 'utf8').trim().split('\n'), [
      'update -qq',
      'install -y -qq --no-install-recommends chromium pkg-config libkrb5-dev',
    ]);
    const again = systemDeps(['e2e', 'code-server-build'], fake.env);
    assert.equal(again.status, 0);
    assert.equal(readFileSync(fake.log, 'utf8').trim().split('\n').length, 2, 'nothing installed twice');
  });

  it('SPARSITY_STUDIO_NO_INSTALL=1 never installs', () => {
    const fake = fakeSystem('no-install');
    const result = systemDeps(['chromium'], { ...fake.env, SPARSITY_STUDIO_NO_INSTALL: '1' });
    assert.equal(result.status, 1);
    assert.ok(!existsSync(fake.log));
  });

  it('npm test reports a layer whose Chromium is missing as not run, with the command', () => {
    const fake = fakeSystem('layer');
    const result = spawnSync(process.execPath, [join(ROOT, 'scripts/test.mjs'), 'webview'], {
      env: { ...fake.env, SPARSITY_STUDIO_NO_INSTALL: '1' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(
      result.stdout,
      /^webview +0 passed, 1 failed .*not run: chromium is missing .*apt-get install -y --no-install-recommends chromium/m,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /executable doesn't exist/i);
  });
});
