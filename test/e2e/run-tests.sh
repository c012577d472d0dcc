#!/usr/bin/env bash
# End-to-end scenarios: the repository's own action.yml files (golang/rust/pnpm wrappers and
# their save actions) run through the action harness as a consumer's workflow would use them.
#
#   test/e2e/run-tests.sh              # local backend; S3 variants too when S3_ENDPOINT is set
#   test/e2e/run-tests.sh --rgw        # also start a throwaway Ceph RGW (test/servers/start-rgw.sh)
#                                      # on free loopback ports for the S3 variants, stop it after
#   test/e2e/run-tests.sh go.test.mjs  # only some files (names relative to test/e2e/)
#
# Environment: CACHEKIT_BIN (default build/native/cachekit; copied first, so a concurrent
# relink cannot break a run), S3_ENDPOINT S3_BUCKET S3_ACCESS_KEY S3_SECRET_KEY [S3_INSECURE
# S3_REGION] (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY accepted for the keys), E2E_BACKENDS=local
# (only these backends), E2E_NONROOT=0 (skip the unprivileged re-run), E2E_ACTION_REPO (serve the
# actions from another checkout, e.g. a mutated copy), ACTION_RUNNER_VERBOSE=1, ACTION_RUNNER_KEEP_TEMP=1.
# Works with CI=true and no stdin; exits non-zero when a test fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

rgw=0
files=()
for a in "$@"; do
  case $a in
    --rgw) rgw=1 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    /*) files+=("$a") ;;
    *) files+=("$here/${a#test/e2e/}") ;;
  esac
done
((${#files[@]})) || files=("$here"/*.test.mjs)

"$root/test/action-runner/run-tests.sh" --install-only </dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/cachekit-e2e-run.XXXXXX")
chmod 755 "$work"
. "$root/test/servers/rgw-lib.sh"
rgw_dir=""
cleanup() {
  set +e
  rgw_stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# A private copy of the helper; retried while another build relinks it.
src=${CACHEKIT_BIN:-$root/build/native/cachekit}
for i in $(seq 30); do
  if [[ -x $src ]] && cp "$src" "$work/cachekit" 2>/dev/null && chmod 755 "$work/cachekit" &&
    "$work/cachekit" version >/dev/null 2>&1; then
    break
  fi
  if ((i == 30)); then
    echo "run-tests.sh: no usable helper at $src (build it: cmake --build build)" >&2
    exit 2
  fi
  sleep 1
done
export E2E_CACHEKIT_REAL=$work/cachekit
echo "e2e: helper $("$work/cachekit" version) from $src" >&2

if ((rgw)) && [[ -z ${S3_ENDPOINT:-} ]]; then
  rgw_dir=$work/rgw
  env_out=$(rgw_start cachekit-e2e </dev/null)
  rgw_export S3_ENDPOINT S3_BUCKET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION <<<"$env_out"
  echo "e2e: RGW at $S3_ENDPOINT" >&2
fi

status=0
node --test --test-timeout=180000 --test-reporter=spec "${files[@]}" </dev/null || status=1

# Root ignores file modes, which is how restore-over-a-read-only-Go-module-cache bugs hide:
# run the Go scenarios again as an unprivileged user when we are root (local backend: the
# restore side is the same for every backend).
if [[ $(id -u) == 0 && ${E2E_NONROOT:-1} != 0 ]] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null &&
  [[ " ${files[*]} " == *"/go.test.mjs "* ]]; then
  echo "e2e: the Go scenarios again as user nobody" >&2
  keep=()
  for v in ACTION_RUNNER_VERBOSE ACTION_RUNNER_KEEP_TEMP; do
    [[ -n ${!v:-} ]] && keep+=("$v=${!v}")
  done
  runuser -u nobody -- env -i PATH="$PATH" HOME=/tmp TMPDIR=/tmp CI="${CI:-}" E2E_CACHEKIT_REAL="$E2E_CACHEKIT_REAL" E2E_BACKENDS=local "${keep[@]}" \
    node --test --test-timeout=180000 --test-reporter=spec "$here/go.test.mjs" </dev/null || status=1
fi
exit $status
