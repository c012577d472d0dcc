#!/usr/bin/env bash
# The S3 integration suite: starts a throwaway Ceph RGW (test/servers/start-rgw.sh) on free
# loopback ports unless S3_ENDPOINT/AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/S3_BUCKET point at
# one already, starts the fault-injection proxy in front of it, runs test_s3.py against the
# built binary, stops what it started and exits non-zero on any failure.
#
#   test/integration/s3/run.sh [unittest args, e.g. test_s3.FaultInjection]
# Environment: CACHEKIT_BIN (default build/native/cachekit), RGW_OBJECTSTORE (memstore),
#              S3_TEST_JOBS (test classes run in parallel, default 2).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
export PYTHONDONTWRITEBYTECODE=1
export CACHEKIT_BIN=${CACHEKIT_BIN:-$root/build/native/cachekit}
[ -x "$CACHEKIT_BIN" ] || { echo "run.sh: $CACHEKIT_BIN is missing; build first (cmake --build build)" >&2; exit 2; }

. "$root/test/servers/rgw-lib.sh"
rgw_dir="" proxy_pid=""
cleanup() {
  set +e
  if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; fi
  rgw_stop >&2
  return 0
}
trap cleanup EXIT

if [ -z "${S3_ENDPOINT:-}" ]; then
  rgw_dir=$(mktemp -d /tmp/cachekit-s3it-rgw.XXXXXX)
  env_file=$rgw_dir.env
  rgw_start > "$env_file"
  rgw_export < "$env_file"
  rm -f "$env_file"
  export S3_VHOST_DNS=localhost # start-rgw.sh's rgw_dns_name: <bucket>.localhost works
  # A second user, restricted by docs/s3-policy-pull-requests.json in the BucketPolicy test.
  export S3_PR_USER=cachekit-pr S3_PR_ACCESS_KEY=cachekit-pr-access S3_PR_SECRET_KEY=cachekit-pr-secret-0123456789
  radosgw-admin -c "$rgw_dir/ceph.conf" user create --uid "$S3_PR_USER" --display-name "$S3_PR_USER" \
    --access-key "$S3_PR_ACCESS_KEY" --secret-key "$S3_PR_SECRET_KEY" > /dev/null
fi
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}" "${S3_BUCKET:?}"

upstream=${S3_ENDPOINT#*://}; upstream=${upstream%%/*}
coproc PROXY { exec python3 "$here/fault_proxy.py" --listen 127.0.0.1:0 --upstream "$upstream"; }
proxy_pid=$PROXY_PID
read -r _ listen <&"${PROXY[0]}"
export PROXY_ENDPOINT=http://$listen
echo "run.sh: RGW at $S3_ENDPOINT (bucket $S3_BUCKET), fault proxy at $PROXY_ENDPOINT" >&2

cd "$here"
if [ $# -gt 0 ]; then
  python3 -m unittest -v "$@"
  exit
fi
# The classes are independent (own prefixes; only FaultInjection uses the proxy), so two at a
# time roughly halves the wall time on 2 cores.
classes=$(python3 -c 'import test_s3, inspect
print(" ".join(n for n, c in inspect.getmembers(test_s3, inspect.isclass)
               if issubclass(c, test_s3.S3TestCase) and c is not test_s3.S3TestCase))')
logs=$(mktemp -d /tmp/cachekit-s3it-logs.XXXXXX)
status=0
printf '%s\n' $classes | xargs -P "${S3_TEST_JOBS:-2}" -I{} sh -c \
  'python3 -m unittest -v "test_s3.{}" > "$0/{}.log" 2>&1 && echo "run.sh: PASS {}" >&2 || { echo "run.sh: FAIL {}" >&2; exit 1; }' \
  "$logs" || status=1
cat "$logs"/*.log >&2
rm -rf "$logs"
[ $status = 0 ] && echo "run.sh: all S3 tests passed" >&2 || echo "run.sh: S3 tests FAILED" >&2
exit $status
