#!/usr/bin/env bash
# Finds or builds the cachekit helper for an action step and prints `bin=<path>` to
# $GITHUB_OUTPUT (and stdout). Order: $CACHEKIT_BIN -> a prebuilt binary shipped in the
# action's tree (dist/, verified against dist/SHA256SUMS) -> a release download verified
# against the same committed sums -> a build from source (with a warning and its time).
# Never runs a binary whose sha256 does not match the committed sum.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
emit() {
  echo "bin=$1"
  [ -n "${GITHUB_OUTPUT:-}" ] && echo "bin=$1" >>"$GITHUB_OUTPUT"
  exit 0
}

if [ -n "${CACHEKIT_BIN:-}" ]; then
  [ -x "$CACHEKIT_BIN" ] || { echo "::error::CACHEKIT_BIN=$CACHEKIT_BIN is not an executable file" >&2; exit 2; }
  emit "$CACHEKIT_BIN"
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
name="cachekit-linux-$arch"
sums="$root/dist/SHA256SUMS"

verified() { # file -> 0 when its sha256 is the committed one
  [ -f "$sums" ] && [ -f "$1" ] || return 1
  want=$(awk -v n="$name" '$2 == n || $2 == "*"n {print $1}' "$sums")
  [ -n "$want" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$want" ]
}

if [ -f "$root/dist/$name" ]; then
  if verified "$root/dist/$name"; then
    chmod +x "$root/dist/$name" 2>/dev/null || true
    emit "$root/dist/$name"
  fi
  echo "::warning::$root/dist/$name does not match dist/SHA256SUMS; not using it" >&2
fi

cache_dir="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/cachekit/$(git -C "$root" rev-parse HEAD 2>/dev/null || echo src)"
if [ -f "$root/dist/RELEASE_URL" ] && [ -f "$sums" ] && command -v curl >/dev/null; then
  mkdir -p "$cache_dir"
  url="$(cat "$root/dist/RELEASE_URL")/$name"
  if curl -fsSL --retry 3 --connect-timeout 10 -o "$cache_dir/$name.download" "$url" && verified "$cache_dir/$name.download"; then
    mv "$cache_dir/$name.download" "$cache_dir/$name" && chmod +x "$cache_dir/$name"
    emit "$cache_dir/$name"
  fi
  rm -f "$cache_dir/$name.download"
  echo "::warning::could not download a verified $name from the release; building from source" >&2
fi

if [ -x "$cache_dir/build/native/cachekit" ]; then emit "$cache_dir/build/native/cachekit"; fi
echo "::warning::no prebuilt cachekit for linux-$arch; building it from source (needs cmake, g++ and the -dev packages in scripts/install-deps.sh)" >&2
start=$(date +%s)
mkdir -p "$cache_dir"
cmake -S "$root" -B "$cache_dir/build" -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF >&2
cmake --build "$cache_dir/build" --target cachekit --parallel "$(nproc)" >&2
echo "cachekit built from source in $(($(date +%s) - start)) s" >&2
emit "$cache_dir/build/native/cachekit"
