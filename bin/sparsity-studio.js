#!/usr/bin/env node
// The CLI entry: the bundled dist/cli.js (built by `npm run build`).
require('../dist/cli.js').runCli();
