#!/usr/bin/env bash
# The main job: install what is missing, build, then save a real directory through the
# helper and restore it into a fresh workspace, printing what happened.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" >/dev/null
bin="$root/build/native/cachekit"
work=$(mktemp -d /tmp/cachekit-demo.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export CACHEKIT_LOCAL_DIR="$work/store" CACHEKIT_STATE_DIR="$work/state"

echo "== a workspace with a cache directory (the helper's own sources and a read-only tree)"
mkdir -p "$work/job1/deps"
cp -r "$root/native" "$work/job1/deps/src"
mkdir -p "$work/job1/deps/ro" && echo "immutable" >"$work/job1/deps/ro/mod.go" && chmod 0444 "$work/job1/deps/ro/mod.go" && chmod 0555 "$work/job1/deps/ro"

echo "== job 1: restore (miss), then save"
"$bin" restore --workspace "$work/job1" --path deps --key "demo-$(date +%s)-v1" --restore-keys "demo-"
"$bin" save --workspace "$work/job1"

echo "== job 2: a fresh workspace restores the entry by restore-key"
mkdir -p "$work/job2"
"$bin" restore --workspace "$work/job2" --path deps --key "demo-next" --restore-keys "demo-"
diff -r "$work/job1/deps" "$work/job2/deps" && echo "== restored tree is identical to the saved one"
"$bin" ls
