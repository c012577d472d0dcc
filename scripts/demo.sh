#!/usr/bin/env bash
# The main job: install what is missing, build, start a throwaway local S3 server (Ceph RGW
# on 127.0.0.1), then save a real directory through the helper and restore it into a fresh
# workspace, as two CI jobs would. Stops the server on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --with-test-servers
"$root/scripts/build.sh" >/dev/null
bin="$root/build/native/cachekit"
work=$(mktemp -d /tmp/cachekit-demo.XXXXXX)
export RGW_DIR="$work/rgw"
cleanup() {
  "$root/test/servers/stop-rgw.sh" >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting a local S3 server (Ceph RGW)"
while IFS= read -r line; do export "${line?}"; done < <(RGW_PORT=${RGW_PORT:-17480} "$root/test/servers/start-rgw.sh")
export CACHEKIT_BACKEND=s3 CACHEKIT_ENDPOINT="$S3_ENDPOINT" CACHEKIT_BUCKET="$S3_BUCKET" \
  CACHEKIT_ACCESS_KEY="$AWS_ACCESS_KEY_ID" CACHEKIT_SECRET_KEY="$AWS_SECRET_ACCESS_KEY" \
  CACHEKIT_STATE_DIR="$work/state" CACHEKIT_REPOSITORY=demo/cachekit CACHEKIT_REF=refs/heads/main
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

echo "== a workspace with a cache directory (the helper's sources and a read-only Go-module-like tree)"
mkdir -p "$work/job1/deps"
cp -r "$root/native" "$work/job1/deps/src"
mkdir -p "$work/job1/deps/ro" && echo "immutable" >"$work/job1/deps/ro/mod.go"
chmod 0444 "$work/job1/deps/ro/mod.go" && chmod 0555 "$work/job1/deps/ro"

key="demo-$(date +%s)"
echo "== job 1: restore (a miss), then save"
"$bin" restore --workspace "$work/job1" --path deps --key "$key" --restore-keys "demo-"
"$bin" save --workspace "$work/job1"

echo "== job 2: a fresh workspace restores the entry by restore-key"
mkdir -p "$work/job2"
"$bin" restore --workspace "$work/job2" --path deps --key "demo-next" --restore-keys "demo-"
diff -r "$work/job1/deps" "$work/job2/deps" && echo "== the restored tree is identical to the saved one"
"$bin" ls
