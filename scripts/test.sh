#!/usr/bin/env bash
# Runs every test: builds, then unit tests and integration tests through ctest.
# Test servers are started by the tests that need them and stopped afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --with-test-servers
"$root/scripts/build.sh" >/dev/null
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 1500 "$@"
