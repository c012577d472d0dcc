# shellcheck shell=bash
# rgw-lib.sh — sourced by the test runners that start their own throwaway Ceph RGW
# (test/integration/s3/run.sh, test/integration/gha/run.sh, test/e2e/run-tests.sh), so they
# share one way to pick free ports, start it, export its settings and stop it.
#
#   . "$root/test/servers/rgw-lib.sh"
#   rgw_dir=/some/new/dir      # where the cluster lives; rgw_stop stops it (set it before a
#                              # backgrounded rgw_start: the subshell cannot set it for you)
#   rgw_start [bucket] >env    # start-rgw.sh on free loopback ports; prints its KEY=VALUE lines
#   rgw_export [KEY...] <env   # export those lines (only the KEYs named, when some are)
#   trap '...; rgw_stop' EXIT  # stops it when rgw_dir is set (output on stdout/stderr)
rgw_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rgw_dir=${rgw_dir:-}

# Three free ports and the next 99: the S3 port, the mon port, then a block of 100 for the OSD
# (ceph picks its messenger ports from a range, so the whole range must be free).
rgw_free_ports() {
  python3 - <<'PY'
import random, socket
def free(p):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p)); return True
        except OSError:
            return False
for _ in range(200):
    b = random.randrange(20000, 60000, 200)
    if all(free(p) for p in range(b, b + 102)):
        print(b, b + 1, b + 2); break
PY
}

# rgw_start [bucket]: start-rgw.sh in $rgw_dir on free ports; its env lines go to stdout.
# Without a bucket argument start-rgw.sh's default bucket is created.
rgw_start() {
  local port mon ms
  : "${rgw_dir:?rgw_start: set rgw_dir first}"
  read -r port mon ms < <(rgw_free_ports)
  if [ $# -gt 0 ]; then local -x RGW_BUCKET=$1; fi # scoped to this call
  RGW_DIR=$rgw_dir RGW_PORT=$port RGW_MON_PORT=$mon RGW_MS_PORT_MIN=$ms RGW_MS_PORT_MAX=$((ms + 99)) \
    "$rgw_lib_dir/start-rgw.sh"
}

# rgw_export [KEY...] < env: export the KEY=VALUE lines read from stdin.
rgw_export() {
  local line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    if [ $# -gt 0 ]; then
      case " $* " in *" ${line%%=*} "*) ;; *) continue ;; esac
    fi
    # shellcheck disable=SC2163 # exports the KEY=VALUE in $line, not `line`
    export "$line"
  done
}

# rgw_stop: stop the RGW in $rgw_dir, if one was started. Never fails (for EXIT traps).
rgw_stop() {
  if [ -n "$rgw_dir" ]; then RGW_DIR=$rgw_dir "$rgw_lib_dir/stop-rgw.sh" || true; fi
}
