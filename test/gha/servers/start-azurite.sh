#!/usr/bin/env bash
# start-azurite.sh — Azurite 3.37.0 (Microsoft's Azure Storage emulator, npm, pinned in
# test/gha/package-lock.json), Blob service only, in memory, on 127.0.0.1 (a free port unless
# AZURITE_PORT is set). Stands in for the Azure Blob storage behind the GitHub cache service's
# signed upload/download (SAS) URLs. Ready in ~1.2 s; optionally creates a container.
# Adapted from the shared research scripts; needs nothing outside test/gha at run time.
#
# Prints KEY=VALUE lines. Values contain ';' '&' '=' — read them with
#   while IFS= read -r l; do export "$l"; done < <(start-azurite.sh)      (not eval)
#   AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_BLOB_ENDPOINT AZURE_STORAGE_CONNECTION_STRING
#   AZURE_CONTAINER AZURE_CONTAINER_SAS AZURE_CONTAINER_SAS_URL AZURE_ACCOUNT_SAS
#   AZURITE_PORT AZURITE_DIR AZURITE_PID_FILE
# Idempotent: if the Azurite of $AZURITE_DIR is up, it only prints those lines (fresh SAS tokens).
# Stop with stop-azurite.sh (same AZURITE_DIR).
#
# Environment (all optional):
#   AZURITE_DIR=/tmp/cachekit-gha-azurite  azurite.log, azurite.pid, azurite.port (+ data/ if not in memory)
#   AZURITE_PORT=<free port>
#   AZURITE_CONTAINER=cachekit-test        container created at start ('' = none)
#   AZURITE_IN_MEMORY=1                    0 = keep blobs on disk under $AZURITE_DIR/data
#   AZURITE_MEMORY_MB=4096                 in-memory extent limit
#   AZURITE_SAS_MINUTES=1440
set -euo pipefail
VER=3.37.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gha=$(cd "$here/.." && pwd)
D=${AZURITE_DIR:-/tmp/cachekit-gha-azurite}
CONT=${AZURITE_CONTAINER-cachekit-test}
INMEM=${AZURITE_IN_MEMORY:-1}
MEMMB=${AZURITE_MEMORY_MB:-4096}
MIN=${AZURITE_SAS_MINUTES:-1440}
PIDFILE="$D/azurite.pid"
MAIN="$gha/node_modules/azurite/dist/src/blob/main.js"
ACCT=devstoreaccount1   # Azurite's well-known development account and key (public, not a secret)
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
SASJS="$here/azure-sas.mjs"
log() { echo "start-azurite: $*" >&2; }
die() { log "ERROR: $*"; [ -f "$D/azurite.log" ] && tail -n 20 "$D/azurite.log" >&2; exit 1; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
ep() { echo "http://127.0.0.1:$PORT/$ACCT"; }
print_env() {
  local csas asas
  csas=$(node "$SASJS" service "$ACCT" "$KEY" "${CONT:-x}" "" racwdl "$MIN")
  asas=$(node "$SASJS" account "$ACCT" "$KEY" racwdl "$MIN")
  cat <<EOF2
AZURE_STORAGE_ACCOUNT=$ACCT
AZURE_STORAGE_KEY=$KEY
AZURE_BLOB_ENDPOINT=$(ep)
AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=$ACCT;AccountKey=$KEY;BlobEndpoint=$(ep);
AZURE_CONTAINER=$CONT
AZURE_CONTAINER_SAS=$csas
AZURE_CONTAINER_SAS_URL=$(ep)/$CONT?$csas
AZURE_ACCOUNT_SAS=$asas
AZURITE_PORT=$PORT
AZURITE_DIR=$D
AZURITE_PID_FILE=$PIDFILE
EOF2
}
alive() {
  local p; p=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -qF -- "$MAIN --blobHost 127.0.0.1 --blobPort $PORT "
}
# any HTTP answer (an unauthenticated list is 403) means it is listening
answers() { local c; c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(ep)?comp=list"); [ "$c" != 000 ]; }

command -v curl >/dev/null || die "curl is needed"
"$gha/install.sh" || die "npm install failed"
grep -qs "\"version\": \"$VER\"" "$gha/node_modules/azurite/package.json" || die "node_modules/azurite is not $VER"

# --- already running? ------------------------------------------------------------------------
if [ -f "$D/azurite.port" ]; then
  PORT=$(cat "$D/azurite.port")
  if alive && answers; then print_env; exit 0; fi
  if alive; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; sleep 0.5; fi
fi

# --- start (a free port; retried if another process grabs it first) ------------------------
for _ in 1 2 3; do
  PORT=${AZURITE_PORT:-$(free_port)}
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    [ -n "${AZURITE_PORT:-}" ] && die "port 127.0.0.1:$PORT is already in use (set AZURITE_PORT)"
    continue
  fi
  rm -rf "$D"; mkdir -p "$D"
  echo "$PORT" > "$D/azurite.port"
  # --disableTelemetry: 3.35+ phones home by default (no network here, and none wanted in tests).
  # --skipApiVersionCheck: accept any x-ms-version (real Azure would reject unknown ones).
  # --disableProductStyleUrl: the account is always the first path segment (the double's blob
  #   proxy rewrites <account>.blob.core.windows.net URLs to that form).
  args=(--blobHost 127.0.0.1 --blobPort "$PORT" --disableTelemetry --skipApiVersionCheck --disableProductStyleUrl)
  if [ "$INMEM" = 1 ]; then args+=(--inMemoryPersistence --extentMemoryLimit "$MEMMB"); else mkdir -p "$D/data"; args+=(--location "$D/data"); fi
  ( cd "$D" && exec nohup node "$MAIN" "${args[@]}" >"$D/azurite.log" 2>&1 </dev/null ) &
  echo $! > "$PIDFILE"
  ok=
  for _ in $(seq 1 400); do
    if answers; then ok=1; break; fi
    alive || break
    sleep 0.05
  done
  [ -n "$ok" ] && break
  if grep -qs EADDRINUSE "$D/azurite.log" && [ -z "${AZURITE_PORT:-}" ]; then log "port $PORT taken, retrying"; continue; fi
  alive && kill "$(cat "$PIDFILE")" 2>/dev/null
  die "azurite did not answer on 127.0.0.1:$PORT within 20 s"
done
[ -n "${ok:-}" ] || die "could not start azurite"
if [ -n "$CONT" ]; then
  asas=$(node "$SASJS" account "$ACCT" "$KEY" racwdl 60)
  c=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Length: 0' -H 'x-ms-version: 2022-11-02' "$(ep)/$CONT?restype=container&$asas")
  [ "$c" = 201 ] || [ "$c" = 409 ] || die "creating container $CONT answered HTTP $c"
fi
print_env
