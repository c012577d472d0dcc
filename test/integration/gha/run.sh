#!/usr/bin/env bash
# The github backend and the GitHub-cache fallback, end to end: starts the cache service v2
# double + Azurite (test/gha/start.sh; installs the pinned npm packages the first time) and a
# throwaway Ceph RGW (test/servers/start-rgw.sh) in parallel on free loopback ports, runs
# test_gha.py against the built binary (and @actions/cache 6.3.0 through
# test/gha/official-client.mjs for interop), stops what it started, exits non-zero on failure.
#
#   test/integration/gha/run.sh [unittest args, e.g. test_gha.Fallback]
# Environment: CACHEKIT_BIN (default build/native/cachekit); S3_ENDPOINT AWS_ACCESS_KEY_ID
# AWS_SECRET_ACCESS_KEY S3_BUCKET to use a running RGW instead of starting one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
export PYTHONDONTWRITEBYTECODE=1
export CACHEKIT_BIN=${CACHEKIT_BIN:-$root/build/native/cachekit}
[ -x "$CACHEKIT_BIN" ] || { echo "run.sh: $CACHEKIT_BIN is missing; build first (cmake --build build)" >&2; exit 2; }

work=$(mktemp -d /tmp/cachekit-ghait.XXXXXX)
export CACHEKIT_GHA_DIR=$work/gha
. "$root/test/servers/rgw-lib.sh"
rgw_dir=""
cleanup() {
  set +e
  "$root/test/gha/stop.sh" >/dev/null 2>&1
  rgw_stop >/dev/null 2>&1
  rm -rf "$work"
  return 0
}
trap cleanup EXIT

"$root/test/gha/start.sh" >"$work/gha.env" 2>"$work/gha.log" &
gha_pid=$!
rgw_pid=""
if [ -z "${S3_ENDPOINT:-}" ]; then
  rgw_dir=$work/rgw
  rgw_start cachekit-gha-it >"$work/rgw.env" 2>"$work/rgw.log" &
  rgw_pid=$!
fi
wait "$gha_pid" || { cat "$work/gha.log" >&2; echo "run.sh: the cache service double did not start" >&2; exit 1; }
if [ -n "$rgw_pid" ]; then
  wait "$rgw_pid" || { tail -n 30 "$work/rgw.log" >&2; echo "run.sh: RGW did not start" >&2; exit 1; }
  rgw_export <"$work/rgw.env"
fi
while IFS= read -r line; do [ -n "$line" ] && export "$line"; done <"$work/gha.env"
echo "run.sh: cache service at $ACTIONS_RESULTS_URL, RGW at ${S3_ENDPOINT:-none}" >&2

cd "$here"
status=0
python3 -m unittest -v "${@:-test_gha}" || status=$?
[ $status = 0 ] && echo "run.sh: all github backend / fallback tests passed" >&2 || echo "run.sh: FAILED" >&2
exit $status
