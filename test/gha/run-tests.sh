#!/usr/bin/env bash
# run-tests.sh — the test double's own test suite: installs the pinned npm packages when needed
# (install.sh), starts Azurite + the cache service double (with-servers.sh -> start.sh), runs
# test/*.test.mjs with node's test runner, stops everything. Non-zero exit on any failure.
#
#   test/gha/run-tests.sh                        # all tests
#   test/gha/run-tests.sh test/faults.test.mjs   # some files (paths relative to test/gha or cwd)
#   test/gha/run-tests.sh --test-name-pattern=409
#
# The test files share one double instance and reset it, so they run one at a time.
set -euo pipefail
orig_pwd=$PWD
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
command -v zstd >/dev/null 2>&1 || echo "run-tests.sh: warning: no zstd binary: @actions/cache falls back to gzip" >&2
./install.sh
args=()
reporter=(--test-reporter=spec)
for a in "$@"; do
  [[ $a == --test-reporter* ]] && reporter=()
  if [[ $a != -* && $a != /* && ! -e $a && -e $orig_pwd/$a ]]; then a=$orig_pwd/$a; fi
  args+=("$a")
done
files=0
for a in "${args[@]}"; do [[ $a != -* ]] && files=1; done
((files)) || args+=(test/*.test.mjs)
exec ./with-servers.sh node --test --test-concurrency=1 --test-timeout=120000 "${reporter[@]}" "${args[@]}" </dev/null
