# Sourced by the shell tests: a scratch directory removed on exit, and check/finish for
# counting results. Sets `root` (the repository) and `tmp`.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # name, condition...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAIL: $name"; fi
}
finish() { # prints the tally; exits non-zero when a check failed
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
