#!/usr/bin/env bash
# start.sh — start Azurite (blob store) + the GitHub cache service v2 double (cache-service.mjs)
# on 127.0.0.1, free ports, and print KEY=VALUE lines on stdout (logs on stderr):
#   ACTIONS_RESULTS_URL=http://127.0.0.1:PORT/      the twirp service (what the runner hands to actions)
#   ACTIONS_RUNTIME_TOKEN=<token>                    the Bearer token it accepts
#   ACTIONS_CACHE_SERVICE_V2=1
#   CACHEKIT_GHA_CONTROL_URL=http://127.0.0.1:PORT/  test-only control API (README.md)
#   CACHEKIT_GHA_BLOB_PROXY_URL  CACHEKIT_GHA_CONTAINER  CACHEKIT_GHA_AZURITE_ENDPOINT
#   CACHEKIT_GHA_SERVICE_PID  CACHEKIT_GHA_DIR
#   AZURE_STORAGE_ACCOUNT  AZURE_STORAGE_KEY  AZURE_BLOB_ENDPOINT  AZURITE_PORT ...
# Some values contain ';' '&' '=': read the lines with
#   while IFS= read -r l; do export "$l"; done < <(test/gha/start.sh)        (not eval)
# The same lines are kept in $CACHEKIT_GHA_DIR/env. Idempotent: if the servers of
# $CACHEKIT_GHA_DIR are up, it only prints that file. Stop with stop.sh (same CACHEKIT_GHA_DIR).
# Installs the pinned npm packages first when needed (install.sh; ~20-50 s once).
#
# Environment (all optional):
#   CACHEKIT_GHA_DIR=/tmp/cachekit-gha   state: pid files, logs, env (one dir per instance:
#                                        use different dirs to run several instances at once)
#   CACHEKIT_GHA_PORT / _CONTROL_PORT / _BLOB_PORT, AZURITE_PORT   fixed ports instead of free ones
#   CACHEKIT_GHA_TOKEN, CACHEKIT_GHA_SCOPES, CACHEKIT_GHA_BLOB_MODE, CACHEKIT_GHA_FAULTS,
#   CACHEKIT_GHA_SERVICE_MODE            passed to cache-service.mjs (see its header / README.md)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D=${CACHEKIT_GHA_DIR:-/tmp/cachekit-gha}
log() { echo "gha/start: $*" >&2; }
die() { log "ERROR: $*"; [ -f "$D/cache-service.log" ] && tail -n 20 "$D/cache-service.log" >&2; exit 1; }

service_alive() {
  local p; p=$(cat "$D/cache-service.pid" 2>/dev/null) || return 1
  [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -qF -- "$here/cache-service.mjs"
}
control_answers() {
  local u; u=$(sed -n 's/^CACHEKIT_GHA_CONTROL_URL=//p' "$D/env" 2>/dev/null) || return 1
  [ -n "$u" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${u}health")" = 200 ]
}

"$here/install.sh" || die "npm install failed"
if [ -f "$D/env" ] && service_alive && control_answers; then cat "$D/env"; exit 0; fi
# half-dead leftovers of this dir
if [ -d "$D" ]; then CACHEKIT_GHA_DIR=$D "$here/stop.sh" >/dev/null 2>&1 || true; fi
mkdir -p "$D"

azenv=$(AZURITE_DIR="$D/azurite" AZURITE_CONTAINER=actions-cache "$here/servers/start-azurite.sh") || die "Azurite did not start"
get() { printf '%s\n' "$azenv" | sed -n "s/^$1=//p"; }
EP=$(get AZURE_BLOB_ENDPOINT)
[ -n "$EP" ] || die "no AZURE_BLOB_ENDPOINT from start-azurite.sh"

rm -f "$D/service.env"
( cd "$D" && exec nohup node "$here/cache-service.mjs" --azurite-endpoint "$EP" \
    --account "$(get AZURE_STORAGE_ACCOUNT)" --account-key "$(get AZURE_STORAGE_KEY)" \
    --ready-file "$D/service.env" >"$D/cache-service.log" 2>&1 </dev/null ) &
echo $! > "$D/cache-service.pid"
for _ in $(seq 1 200); do
  [ -f "$D/service.env" ] && break
  [ -d "/proc/$(cat "$D/cache-service.pid")" ] || die "cache-service.mjs exited"
  sleep 0.05
done
[ -f "$D/service.env" ] || die "cache-service.mjs not ready within 10 s"
{ cat "$D/service.env"; echo "CACHEKIT_GHA_DIR=$D"; printf '%s\n' "$azenv"; } > "$D/env.tmp"
mv "$D/env.tmp" "$D/env"
cat "$D/env"
