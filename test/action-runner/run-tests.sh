#!/usr/bin/env bash
# Runs the action harness's tests, installing its pinned npm dependencies first when
# node_modules is missing or package.json / package-lock.json changed since the last install.
#
#   test/action-runner/run-tests.sh                      # the harness's own tests (test/*.test.mjs)
#   test/action-runner/run-tests.sh path/to/x.test.mjs   # other test files (node --test arguments)
#   test/action-runner/run-tests.sh --install-only       # just make node_modules ready
#
# Needs node >= 20.6 and npm; works non-interactively (CI=true, no stdin). Exit status is
# non-zero when a test fails.
set -euo pipefail

orig_pwd=$PWD
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

command -v node >/dev/null 2>&1 || { echo "run-tests.sh: node (>= 20.6) is not installed" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "run-tests.sh: npm is not installed" >&2; exit 1; }
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 6) ? 0 : 1)' ||
  { echo "run-tests.sh: node $(node --version) is too old (>= 20.6 needed for module.register)" >&2; exit 1; }

stamp=node_modules/.action-runner-deps.sha256
want=$(node -e '
  const { createHash } = require("node:crypto"); const fs = require("node:fs");
  const h = createHash("sha256");
  for (const f of ["package.json", "package-lock.json"]) h.update(fs.readFileSync(f));
  h.update(process.version);
  console.log(h.digest("hex"));')
if [[ ! -d node_modules || ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  echo "run-tests.sh: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error </dev/null
  echo "$want" >"$stamp"
fi

if [[ ${1:-} == --install-only ]]; then exit 0; fi

args=()
reporter=(--test-reporter=spec)
if (($#)); then
  for a in "$@"; do
    [[ $a == --test-reporter* ]] && reporter=()
    # paths are relative to where the script was called from
    if [[ $a != -* && $a != /* && -e $orig_pwd/$a ]]; then a=$orig_pwd/$a; fi
    args+=("$a")
  done
else
  args=(test/*.test.mjs)
fi
exec node --test --test-timeout=600000 "${reporter[@]}" "${args[@]}" </dev/null
