#!/usr/bin/env bash
# with-servers.sh — run one command with Azurite + the cache service double up, their KEY=VALUE
# lines exported into its environment (ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN,
# ACTIONS_CACHE_SERVICE_V2, CACHEKIT_GHA_CONTROL_URL, ...; see start.sh), and everything stopped
# afterwards, whatever the command's outcome. Exits with the command's status.
#
#   test/gha/with-servers.sh ctest -R github            # e.g. from CMake/ctest or a shell
#   test/gha/with-servers.sh python3 test/integration/github_test.py
#
# Each call uses its own state dir (CACHEKIT_GHA_DIR, default: a fresh mktemp dir), so several
# can run at once. Set CACHEKIT_GHA_KEEP=1 to keep the dir (logs) afterwards.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($#)) || { echo "usage: with-servers.sh COMMAND [ARGS...]" >&2; exit 2; }
export CACHEKIT_GHA_DIR=${CACHEKIT_GHA_DIR:-$(mktemp -d /tmp/cachekit-gha.XXXXXX)}
# shellcheck disable=SC2317  # called by the trap
cleanup() { "$here/stop.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
envlines=$("$here/start.sh")
# shellcheck disable=SC2163  # the lines are NAME=VALUE
while IFS= read -r l; do [ -n "$l" ] && export "$l"; done <<<"$envlines"
set +e
"$@"
rc=$?
set -e
exit $rc
