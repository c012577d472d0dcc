#!/usr/bin/env bash
# scripts/bootstrap.sh: which binary an action runs. It must honour CACHEKIT_BIN, use a
# shipped binary only when its sha256 matches dist/SHA256SUMS, and otherwise fall back to a
# (cached) build from source -- never run an unverified binary.
set -euo pipefail
source "$(dirname "$0")/../shell_check.sh"

case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
# A copy of the action tree without git metadata, so the build cache key is "src".
mkdir -p "$tmp/action/scripts" "$tmp/action/dist"
cp "$root/scripts/bootstrap.sh" "$tmp/action/scripts/"
printf '#!/bin/sh\necho shipped\n' >"$tmp/action/dist/cachekit-linux-$arch"
chmod +x "$tmp/action/dist/cachekit-linux-$arch"
mkdir -p "$tmp/tools/cachekit/src/build/native"
printf '#!/bin/sh\necho built\n' >"$tmp/tools/cachekit/src/build/native/cachekit"
chmod +x "$tmp/tools/cachekit/src/build/native/cachekit"
run() { env -u CACHEKIT_BIN RUNNER_TOOL_CACHE="$tmp/tools" GITHUB_OUTPUT="$tmp/out" "$@" "$tmp/action/scripts/bootstrap.sh" 2>"$tmp/err"; }

out=$(run env CACHEKIT_BIN=/bin/true)
check "CACHEKIT_BIN is used" test "$out" = "bin=/bin/true"
grep -q '^bin=/bin/true$' "$tmp/out" && check "bin goes to GITHUB_OUTPUT" true || check "bin goes to GITHUB_OUTPUT" false

set +e
run env CACHEKIT_BIN=/nonexistent >/dev/null
rc=$?
set -e
check "a CACHEKIT_BIN that is not executable is bad input (exit 2)" test "$rc" = 2

(cd "$tmp/action/dist" && sha256sum "cachekit-linux-$arch" >SHA256SUMS)
out=$(run env)
check "a shipped binary with a matching sum is used" test "$out" = "bin=$tmp/action/dist/cachekit-linux-$arch"

echo "echo tampered" >>"$tmp/action/dist/cachekit-linux-$arch"
out=$(run env)
check "a shipped binary whose sum does not match is not used" test "$out" = "bin=$tmp/tools/cachekit/src/build/native/cachekit"
check "... and the log says why" grep -q "does not match" "$tmp/err"

rm "$tmp/action/dist/SHA256SUMS"
out=$(run env)
check "without committed sums the shipped binary is not used" test "$out" = "bin=$tmp/tools/cachekit/src/build/native/cachekit"

finish
