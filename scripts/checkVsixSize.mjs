// The .vsix size budget: `node scripts/checkVsixSize.mjs FILE.vsix` fails when the package is over
// VSIX_BUDGET_BYTES or when the README's stated size is more than 25% off (stale). The e2e layer
// runs it on the .vsix it packages and installs (test/e2e/run.sh).
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const VSIX_BUDGET_BYTES = 2_000_000;
/** The README sentence that states the size: "… `.vsix`) is 1.3 MB (budget 2 MB …". */
export const README_SIZE = /\.vsix`\) is ([\d.]+) MB \(budget ([\d.]+) MB/;

/** Problems with a package of `bytes`, given the README text; empty when it is within budget and documented. */
export function vsixSizeProblems(bytes, readme) {
  const problems = [];
  const mb = (n) => (n / 1e6).toFixed(2);
  if (bytes > VSIX_BUDGET_BYTES) problems.push(`${mb(bytes)} MB is over the budget of ${mb(VSIX_BUDGET_BYTES)} MB`);
  const stated = README_SIZE.exec(readme);
  if (!stated) problems.push('the README does not state the .vsix size ("`.vsix`) is N MB (budget N MB")');
  else {
    if (Number(stated[2]) * 1e6 !== VSIX_BUDGET_BYTES)
      problems.push(
        `the README says the budget is ${stated[2]} MB, scripts/checkVsixSize.mjs ${mb(VSIX_BUDGET_BYTES)} MB`,
      );
    if (Math.abs(Number(stated[1]) * 1e6 - bytes) > 0.25 * bytes)
      problems.push(`the README says ${stated[1]} MB, the package is ${mb(bytes)} MB: update it`);
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/checkVsixSize.mjs FILE.vsix');
    process.exit(2);
  }
  const bytes = statSync(file).size;
  const problems = vsixSizeProblems(bytes, readFileSync(join(root, 'README.md'), 'utf8'));
  console.log(`[vsix] ${file}: ${(bytes / 1e6).toFixed(2)} MB, budget ${(VSIX_BUDGET_BYTES / 1e6).toFixed(2)} MB`);
  for (const p of problems) console.error(`[vsix] ${p}`);
  console.log(`vsix-size: ${problems.length === 0 ? '1 passed, 0 failed' : '0 passed, 1 failed'}`);
  process.exit(problems.length === 0 ? 0 : 1);
}
