#!/usr/bin/env bash
# Installs what Vigil needs on a fresh Debian 12 machine (run as root), then builds it.
# Idempotent: apt runs only when a package is missing, npm ci only when node_modules is stale.
set -euo pipefail

cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential make musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  libbearssl-dev libbearssl-dev:arm64
  clang libclang-rt-14-dev
  tini strace hyperfine util-linux procps busybox-static
  nginx python3
  docker.io debootstrap qemu-user qemu-system-arm cpio
  docker-registry apache2-utils openssl curl
  chromium postgresql
)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# The enforcer links BearSSL statically for both architectures: arm64's archive
# comes from Debian's arm64 packages (multiarch).
if [[ $(id -u) -eq 0 ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  say "adding the arm64 package architecture (for libbearssl-dev:arm64)"
  dpkg --add-architecture arm64
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages (${missing[*]}); run this script as root"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "Debian packages present"
fi

command -v node >/dev/null || die "Node.js >= 20 is required (not found on PATH)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js >= 20 is required; found $(node --version)"

if [[ -f package-lock.json ]]; then
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json || package.json -nt node_modules/.package-lock.json ]]; then
    say "npm ci"
    npm ci --no-audit --no-fund
  else
    say "node_modules up to date"
  fi
else
  say "npm install (no package-lock.json)"
  npm install --no-audit --no-fund
fi

say "npm run build"
npm run build

# Tests run the enforcer in real containers: a local Docker engine (no bridge
# network) and test images built from this machine's files, never pulled.
say "docker engine and test images"
scripts/docker-engine.sh >/dev/null
scripts/test-images.sh >/dev/null
say "done"
