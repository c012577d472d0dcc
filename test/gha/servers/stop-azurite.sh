#!/usr/bin/env bash
# stop-azurite.sh — stop the Azurite started by start-azurite.sh (same AZURITE_DIR); deletes the
# dir unless AZURITE_KEEP=1. Kills only the pid in $AZURITE_DIR/azurite.pid, and only if that
# process is this checkout's Azurite.
set -uo pipefail
D=${AZURITE_DIR:-/tmp/cachekit-gha-azurite}
p=$(cat "$D/azurite.pid" 2>/dev/null || true)
running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
n=0
if [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -qF "azurite/dist/src/blob/main.js"; then
  kill -TERM "$p" 2>/dev/null; n=1
  for _ in $(seq 1 50); do running "$p" || break; sleep 0.1; done
  running "$p" && kill -KILL "$p" 2>/dev/null
fi
[ -n "${AZURITE_KEEP:-}" ] || { [ -f "$D/azurite.pid" ] && rm -rf "$D"; }
echo "stop-azurite: stopped $n process(es) of $D" >&2
