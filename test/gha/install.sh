#!/usr/bin/env bash
# install.sh — make test/gha/node_modules match package.json + package-lock.json (npm ci), only
# when node_modules is missing or either file (or the node version) changed since the last
# install. Pinned: azurite 3.37.0 (~400 MB, 20-50 s cold) and @actions/cache 6.3.0.
# Quiet when nothing to do; logs on stderr. Used by start.sh and run-tests.sh.
#
# Environment: CACHEKIT_GHA_NODE_MODULES_CHECK=0 skips the check entirely (you manage it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
log() { echo "gha/install: $*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing nodejs npm from Debian..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends nodejs npm >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends nodejs npm >/dev/null; } ||
      { log "ERROR: apt-get install nodejs npm failed"; exit 1; }
  else
    log "ERROR: node (>= 20) and npm are needed"; exit 1
  fi
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { log "ERROR: node $(node --version) is too old (>= 20 needed)"; exit 1; }
[ "${CACHEKIT_GHA_NODE_MODULES_CHECK:-1}" = 0 ] && exit 0

stamp=node_modules/.cachekit-gha-deps.sha256
want=$(node -e '
  const { createHash } = require("node:crypto"); const fs = require("node:fs");
  const h = createHash("sha256");
  for (const f of ["package.json", "package-lock.json"]) h.update(fs.readFileSync(f));
  h.update(process.version);
  console.log(h.digest("hex"));')
if [[ -d node_modules && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi

# One installer at a time (parallel test runs share node_modules).
exec 9>"$here/.install.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -d node_modules && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
log "installing pinned npm packages (npm ci: azurite 3.37.0, @actions/cache 6.3.0; ~400 MB, 20-50 s)..."
t0=$(date +%s)
# --ignore-scripts: the only install script in the tree is protobufjs' version notice.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error </dev/null >&2 ||
  { log "ERROR: npm ci failed"; exit 1; }
echo "$want" >"$stamp"
log "installed in $(( $(date +%s) - t0 )) s"
