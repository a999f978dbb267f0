/**
 * The command line as a shell user meets it: --version, help for every command (`help COMMAND`,
 * `COMMAND --help`), `--opt value` and `--opt=value` alike, unknown options and values refused with
 * the command's usage (exit 2), and `check -` reading standard input.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS, main } from '../../../server/src/cli';
import { parseCommand, UsageError } from '../../../server/src/cli/args';
import { RUN } from '../../../server/src/cli/run';
import { SPARSITY_STUDIO_VERSION } from '../../../server/src/experiment/version';
import { BROKEN_DIR, ROOT, sampleFiles } from '../../helpers/experimentFixtures';

async function cli(args: string[], stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (l: string) => void out.push(l),
    error: (l: string) => void err.push(l),
    readStdin: () =>
      stdin === undefined ? Promise.reject(new Error('no stdin in this test')) : Promise.resolve(stdin),
  };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('sparsity-studio: version and help', () => {
  it('--version prints the package version', async () => {
    assert.equal(SPARSITY_STUDIO_VERSION, pkg.version);
    for (const flag of ['--version', '-v']) assert.deepEqual(await cli([flag]), { code: 0, out: pkg.version, err: '' });
  });

  it('help lists every command; no command at all is a usage error', async () => {
    const help = await cli(['help']);
    assert.equal(help.code, 0);
    for (const [name, c] of Object.entries(COMMANDS))
      assert.ok(help.out.includes(`  ${name}`) && help.out.includes(c.spec.summary));
    assert.equal((await cli(['--help'])).out, help.out);
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.equal(none.err, help.out);
  });

  for (const [name, command] of Object.entries(COMMANDS))
    it(`help ${name}, ${name} --help and ${name} -h print its usage and every option`, async () => {
      const help = await cli(['help', name]);
      assert.equal(help.code, 0);
      assert.match(help.out, new RegExp(`^usage: sparsity-studio ${name} `));
      for (const option of [...Object.keys(command.spec.options), 'help'])
        assert.ok(help.out.includes(`--${option}`), option);
      assert.deepEqual(await cli([name, '--help']), help);
      assert.deepEqual(await cli([name, '-h']), help);
      assert.match(help.out, /exit status: 0/);
    });

  it('an unknown command or help topic is refused with the list', async () => {
    for (const args of [['frobnicate'], ['help', 'frobnicate']]) {
      const r = await cli(args);
      assert.equal(r.code, 2);
      assert.match(r.err, /frobnicate/);
      assert.match(r.err, /usage: sparsity-studio <command>/);
    }
  });
});

describe('sparsity-studio: options', () => {
  for (const name of Object.keys(COMMANDS))
    it(`${name} refuses an unknown option with its usage`, async () => {
      const r = await cli([name, '--oops', 'x']);
      assert.equal(r.code, 2);
      assert.match(
        r.err,
        new RegExp(`^sparsity-studio ${name}: Unknown option '--oops'\\nusage: sparsity-studio ${name} `),
      );
    });

  it('--steps 5 and --steps=5 are the same; bad values are refused naming the rule', () => {
    const spaced = parseCommand(RUN, ['x.prune.yaml', '--steps', '5', '--backend', 'cpu']);
    const joined = parseCommand(RUN, ['--steps=5', '--backend=cpu', 'x.prune.yaml']);
    assert.deepEqual(spaced, joined);
    assert.deepEqual(spaced, { options: { steps: '5', backend: 'cpu' }, positionals: ['x.prune.yaml'] });
    for (const [args, message] of [
      [['x', '--steps', '0'], /--steps must be an integer of at least 1, not "0"/],
      [['x', '--steps=1.5'], /--steps must be an integer/],
      [['x', '--steps'], /argument missing/],
      [['x', '--backend', 'gpu'], /--backend must be one of auto, tensorflow, webgpu, wasm, cpu, not "gpu"/],
      [['x', 'y'], /unexpected argument "y"/],
    ] as const)
      assert.throws(
        () => parseCommand(RUN, [...args]),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
  });

  it('run: contradictions are usage errors, before anything runs', async () => {
    for (const [args, message] of [
      [['run'], /no experiment file given/],
      [['run', 'a.prune.yaml', '--resume', 'dir'], /not both/],
      [['run', '--resume', 'dir', '--steps', '3'], /--steps and --out apply to a new run/],
    ] as const) {
      const r = await cli([...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, message);
      assert.match(r.err, /usage: sparsity-studio run FILE \[--steps N\]/);
    }
  });

  it('check: every --format choice is honoured, others refused with the choices', async () => {
    const [sample] = sampleFiles();
    assert.equal((await cli(['check', '--format=text', sample!])).code, 0);
    assert.deepEqual(JSON.parse((await cli(['check', '--format', 'json', sample!])).out), []);
    const csv = await cli(['check', '--format', 'csv', sample!]);
    assert.equal(csv.code, 2);
    assert.match(csv.err, /--format must be one of text, json, not "csv"/);
  });
});

describe('sparsity-studio check -', () => {
  it('reads the experiment from standard input and names it <stdin>', async () => {
    const clean = await cli(
      ['check', '-'],
      readFileSync(sampleFiles()[0]!, 'utf8').replace(/path: \.\//, `path: ${join(ROOT, 'samples')}/`),
    );
    assert.equal(clean.code, 0, clean.out);
    assert.match(clean.out, /1 file checked, 1 clean/);
    const broken = await cli(
      ['check', '--format', 'json', '-'],
      readFileSync(join(BROKEN_DIR, 'unknown-key.prune.yaml'), 'utf8'),
    );
    assert.equal(broken.code, 1);
    const records = JSON.parse(broken.out) as { file: string; code: string }[];
    assert.ok(records.length > 0 && records.every((r) => r.file === '<stdin>'));
    assert.ok(records.some((r) => r.code === 'unknown-key'));
  });

  it('with other files, and only once', async () => {
    const mixed = await cli(['check', sampleFiles()[0]!, '-'], 'version: 1\nname: x\n');
    assert.equal(mixed.code, 1);
    assert.match(mixed.out, /^<stdin>:\d+:\d+: error \[missing-required\]/m);
    const twice = await cli(['check', '-', '-'], '');
    assert.equal(twice.code, 2);
    assert.match(twice.err, /standard input \(-\) can be read once/);
  });
});
