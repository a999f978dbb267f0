/**
 * The product's version, as in package.json (test/unit/cli/cli.test.ts keeps them equal): the CLI's
 * `--version`, the server's `serverInfo`, and `versions.sparsityStudio` in every run.json.
 */
export const SPARSITY_STUDIO_VERSION = '0.1.0';
