#!/usr/bin/env bash
# clang-format (check only), clang-tidy (.clang-tidy) and cppcheck over native/ and the unit tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-$root/build}
[ -f "$build/compile_commands.json" ] || scripts/build.sh >/dev/null
files=$(git ls-files 'native/*.cpp' 'native/*.hpp' 'test/unit/*.cpp')
clang-format --dry-run --Werror $files
clang-tidy -p "$build" --quiet $(git ls-files 'native/*.cpp') 2>/dev/null | { ! grep -E 'warning:|error:'; }
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c++20 --inline-suppr -I native native
echo "lint: clean"
