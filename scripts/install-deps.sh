#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages cachekit builds and tests with; skips what is
# already installed. Needs root (or sudo).
set -euo pipefail
packages=(
  g++ cmake ninja-build pkg-config git
  libcurl4-openssl-dev nlohmann-json3-dev libzstd-dev libarchive-dev libfmt-dev catch2 libssl-dev
  zstd tar python3 util-linux time
)
if [ "${1:-}" = "--with-test-servers" ]; then
  packages+=(radosgw ceph-mon ceph-osd ceph-common ceph-base curl)
  # Node may come from elsewhere than Debian; any working node + npm will do.
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: everything is installed" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
