#!/usr/bin/env bash
# stop.sh — stop what start.sh started for $CACHEKIT_GHA_DIR (default /tmp/cachekit-gha): the
# cache service double, then Azurite; removes the dir unless CACHEKIT_GHA_KEEP=1 (logs stay then).
# Kills only the pids in its pid files, and only if they are the processes start.sh started.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D=${CACHEKIT_GHA_DIR:-/tmp/cachekit-gha}
running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
n=0
p=$(cat "$D/cache-service.pid" 2>/dev/null || true)
if [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -qF -- "$here/cache-service.mjs"; then
  kill -TERM "$p" 2>/dev/null; n=1
  for _ in $(seq 1 50); do running "$p" || break; sleep 0.1; done
  running "$p" && kill -KILL "$p" 2>/dev/null
fi
AZURITE_DIR="$D/azurite" AZURITE_KEEP=${CACHEKIT_GHA_KEEP:-} "$here/servers/stop-azurite.sh" 2>/dev/null
[ -n "${CACHEKIT_GHA_KEEP:-}" ] || { [ -d "$D" ] && rm -rf "$D"; }
echo "gha/stop: stopped the cache service double ($n) and Azurite of $D" >&2
