#!/usr/bin/env bash
# scripts/build.sh: configures when the build directory has no build files yet -- also when a
# failed configure left a CMakeCache.txt behind (a missing dependency on a fresh machine) --
# and otherwise only builds. cmake is a stub here that logs its calls.
set -euo pipefail
source "$(dirname "$0")/../shell_check.sh"

mkdir -p "$tmp/bin"
cat >"$tmp/bin/cmake" <<'STUB'
#!/usr/bin/env bash
echo "$*" >>"$CMAKE_STUB_LOG"
build=
while [ $# -gt 0 ]; do [ "$1" = -B ] && build=$2; shift; done
if [ -n "$build" ]; then # a configure that succeeds writes the generator's files
  mkdir -p "$build"; touch "$build/CMakeCache.txt" "$build/build.ninja" "$build/Makefile"
fi
STUB
chmod +x "$tmp/bin/cmake"

build_in() { # build dir -> the stub's log
  : >"$tmp/log"
  PATH="$tmp/bin:$PATH" CMAKE_STUB_LOG="$tmp/log" BUILD_DIR="$1" "$root/scripts/build.sh" >/dev/null
  cat "$tmp/log"
}
configures() { grep -q -- "-S $root -B $1" <<<"$2"; }
builds() { grep -q -- "--build $1" <<<"$2"; }

log=$(build_in "$tmp/fresh")
check "a new build directory is configured" configures "$tmp/fresh" "$log"
check "and built" builds "$tmp/fresh" "$log"

log=$(build_in "$tmp/fresh")
check "a configured one is only built" bash -c '! grep -q -- " -S " <<<"$0"' "$log"
check "built again" builds "$tmp/fresh" "$log"

mkdir -p "$tmp/failed" && touch "$tmp/failed/CMakeCache.txt"
log=$(build_in "$tmp/failed")
check "a failed configure (cache, no build files) is configured again" configures "$tmp/failed" "$log"

finish
