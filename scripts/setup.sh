#!/usr/bin/env bash
# Brings a fresh Debian machine, or a fresh clone, to a built tree: system packages, npm
# dependencies, the native addon (cmake-js), its node-gyp prebuild, and the TypeScript.
# Idempotent, and quick when nothing changed. `npm test` and `npm start` run it first.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "zerotier-sockets needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# Build tools; nlohmann-json (header-only, the engine's JSON); what scripts/third-party.js
# needs to fetch and prepare Debian's sources of lwIP, libsodium and liblz4 (dpkg-dev for
# apt-get source; patch for our lwIP patches; autotools for libsodium); and what the test
# suite drives (clang and its runtime libraries build the libFuzzer targets; dig checks the
# lab's DNS server; PostgreSQL and openssl serve the library tests).
packages=(g++ make python3 cmake pkg-config curl nlohmann-json3-dev dpkg-dev patch autoconf automake
  libtool libgtest-dev clang-format clang libclang-rt-14-dev bind9-dnsutils postgresql openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# npm ci when node_modules is missing or older than the lock file. Install scripts are
# skipped: the addon is built below with cmake-js, not by node-gyp-build's install hook.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

echo "setup: lwIP, libsodium and liblz4 from Debian's sources (build-deps/)"
node scripts/third-party.js
echo "setup: building the native addon (cmake-js)"
npx cmake-js compile --log-level error >/dev/null
echo "setup: building the TypeScript"
npm run --silent build:ts
node scripts/prebuild.mjs --if-stale
