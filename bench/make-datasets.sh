#!/usr/bin/env bash
# make-datasets.sh — build realistic, reproducible CI-cache trees for the cachekit
# benchmark (bench/run.sh), from registry packages only (Debian + npm).
#
# Usage: bench/make-datasets.sh [--small] TARGET_DIR [DATASET...]
#   TARGET_DIR  where the trees go (default: $CACHEKIT_BENCH_DIR/data, and
#               CACHEKIT_BENCH_DIR defaults to ../bench-data beside the repo)
#   DATASET     any of: gomod gobuild cargo pnpm   (default: all four)
#   --small     tiny SYNTHETIC trees of the same shapes (bench/datasets/synth.py):
#               a few thousand files, a few tens of MB, no package installs, < 10 s.
#               Used by `bench/run.sh --smoke`.
#
# Full trees (TARGET_DIR/<dataset>/):
#   gomod    $GOMODCACHE (~/go/pkg/mod) laid out from Debian golang-*-dev sources:
#            cache/download/<mod>/@v/{list,*.info,*.mod,*.zip,*.ziphash,*.lock},
#            sumdb lookups/tiles, and <mod>@<ver>/ trees (files 0444, dirs 0555);
#            ~30k files, ~540 MB
#   gobuild  a REAL Go build cache ($GOCACHE): Debian's golang-go compiling (-a, so
#            std too), vetting and test-building Debian-packaged Go libraries
#   cargo    cargo-home/registry/{index,cache,src} laid out from Debian
#            librust-*-dev crates, plus target/ from a real `cargo build` (debug)
#            of datasets/cargo-app whose deps resolve to those crates
#   pnpm     a real pnpm store (store-dir) after `pnpm install --frozen-lockfile`
#            of datasets/pnpm-app (React+Vite+TS+ESLint+MUI+testing app)
#
# Installs what it needs (apt-get, npm -g pnpm) only when missing. Idempotent: a
# dataset whose recipe stamp (hash of the builder, its inputs and the installed
# package versions) matches is kept; otherwise it is rebuilt in <dataset>.tmp and
# swapped in. All mtimes are pinned to a fixed timestamp (with a sub-second part).
# ~4-7 min from scratch on 2 cores (+ package downloads); a rerun takes seconds.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DS=$HERE/datasets
REPO=$(dirname "$HERE")
SMALL=0
if [ "${1:-}" = "--small" ]; then SMALL=1; shift; fi
case "${1:-}" in -h|--help) awk 'NR > 1 && /^set -euo/ { exit } NR > 1' "$0"; exit 0 ;; esac
TARGET=${1:-${CACHEKIT_BENCH_DIR:-$(dirname "$REPO")/bench-data}/data}
shift || true
SETS=${*:-gomod gobuild cargo pnpm}
for s in $SETS; do
  case $s in gomod|gobuild|cargo|pnpm) ;; *) echo "unknown dataset: $s (want gomod gobuild cargo pnpm)" >&2; exit 2 ;; esac
done
PNPM_VERSION=${PNPM_VERSION:-12.21.0}
FIXED_MTIME='2024-01-01 00:00:00.123456789 UTC'
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rmtree() { # trees contain read-only dirs (Go module cache): make writable first
  [ -e "$1" ] || [ -L "$1" ] || return 0
  chmod -R u+w "$1" 2>/dev/null || true
  rm -rf "$1"
}
stats() { # name dir
  local f d b
  f=$(find "$2" -type f | wc -l)
  d=$(find "$2" -type d | wc -l)
  b=$(du -sb "$2" | cut -f1)
  printf '%-8s %8d files %6d dirs %12d bytes (%s MB, du %s)  %s\n' \
    "$1" "$f" "$d" "$b" "$(awk -v b="$b" 'BEGIN{printf "%.1f", b/1e6}')" "$(du -sh "$2" | cut -f1)" "$2"
}

mkdir -p "$TARGET/.stamps"
TARGET=$(cd "$TARGET" && pwd)

# ---------------------------------------------------------------- --small
if [ "$SMALL" = 1 ]; then
  r=$(sha256sum "$DS/synth.py" | cut -c1-16)
  for s in $SETS; do
    if [ -d "$TARGET/$s" ] && [ "$(cat "$TARGET/.stamps/$s" 2>/dev/null)" = "small-$r" ]; then
      log "$s: up to date (small $r)"; continue
    fi
    rmtree "$TARGET/$s.tmp"
    python3 "$DS/synth.py" "$TARGET/$s.tmp" "$s"
    rmtree "$TARGET/$s"
    mv "$TARGET/$s.tmp" "$TARGET/$s"
    echo "small-$r" >"$TARGET/.stamps/$s"
    log "$s: small synthetic tree built"
  done
  for s in $SETS; do stats "$s" "$TARGET/$s"; done
  exit 0
fi

# ---------------------------------------------------------------- packages
mkdir -p "$TARGET/.work"
want_pkgs() {
  local p; for p in "$@"; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done
}
ensure_apt() {
  local missing
  missing=$(want_pkgs "$@")
  if [ -n "$missing" ]; then
    log "apt-get install: $(echo "$missing" | wc -l) packages"
    if ! apt-get install -y -q --no-install-recommends $missing >"$TARGET/.work/apt.log" 2>&1; then
      apt-get update -q >>"$TARGET/.work/apt.log" 2>&1
      apt-get install -y -q --no-install-recommends $missing >>"$TARGET/.work/apt.log" 2>&1 \
        || { tail -20 "$TARGET/.work/apt.log"; exit 1; }
    fi
  fi
}
GO_PKGS=$(grep -v '^#' "$DS/go-packages.txt")
RUST_PKGS=$(grep -v '^#' "$DS/rust-packages.txt")
for s in $SETS; do
  case $s in
    gomod)   ensure_apt $GO_PKGS zip ;;
    gobuild) ensure_apt $GO_PKGS golang-go gcc libc6-dev ;;
    cargo)   ensure_apt $RUST_PKGS
             command -v cargo >/dev/null || ensure_apt cargo rustc ;;
    pnpm)    command -v npm >/dev/null || ensure_apt nodejs npm ;;
  esac
done

# ---------------------------------------------------------------- recipes
pkgvers() { dpkg-query -W -f='${Package}=${Version}\n' "$@" 2>/dev/null | sort; }
recipe() { # $1=dataset; prints the recipe hash
  {
    declare -f "build_$1" normalize; echo "$FIXED_MTIME"
    case $1 in
      gomod)   sha256sum "$DS/gomod.py" "$DS/go-packages.txt"; pkgvers 'golang-*-dev' ;;
      gobuild) sha256sum "$DS/go-build-packages.txt"; pkgvers 'golang-*'; pkgvers gcc ;;
      cargo)   sha256sum "$DS/cargo_registry.py" "$DS"/cargo-app/Cargo.* "$DS/cargo-app/src/main.rs"
               pkgvers 'librust-*'; rustc -V; cargo -V ;;
      pnpm)    sha256sum "$DS"/pnpm-app/package.json "$DS"/pnpm-app/pnpm-lock.yaml; echo "$PNPM_VERSION" ;;
    esac
  } | sed "s#$DS#DS#g" | sha256sum | cut -c1-16
}
normalize() { # fixed mtimes (files, dirs, links), deterministic
  find "$1" -depth -print0 | xargs -0 -r touch -h -d "$FIXED_MTIME"
}

# ---------------------------------------------------------------- builders
build_gomod() { # $1 = output dir
  python3 "$DS/gomod.py" "$1" "$TARGET/gomod.modules.txt" >&2
}

build_gobuild() {
  local out=$1 pats vet tst pkgs
  pats=$(grep -v '^#' "$DS/go-build-packages.txt" | grep -v '^vet:\|^test:')
  vet=$(sed -n 's/^vet://p' "$DS/go-build-packages.txt")
  tst=$(sed -n 's/^test://p' "$DS/go-build-packages.txt")
  (
    export GOCACHE=$out GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local \
           CGO_ENABLED=1 GOTELEMETRY=off HOME=$TARGET/.work/gohome PATH=/usr/lib/go/bin:$PATH
    mkdir -p "$HOME"
    cd "$TARGET/.work"
    # keep only patterns/packages that resolve without errors with this Debian set
    pkgs=$(go list -e -f '{{if and (not .Error) (not .DepsErrors) (or .GoFiles .CgoFiles)}}{{.ImportPath}}{{end}}' $pats 2>/dev/null | sort -u)
    log "gobuild: go build -a $(echo "$pkgs" | wc -l) packages (+ std deps)"
    go build -a $pkgs
    log "gobuild: go vet / go test -run '^\$'"
    go vet $vet || true
    go test -count=1 -run '^$' $tst >/dev/null || true
  )
  # action entries ("v1 <action> <output> <size> <unixnano>") carry the build time:
  # pin it so the tree is byte-for-byte reproducible (outputs already are).
  find "$out" -name '*-a' -type f -print0 | xargs -0 -r sed -i -E 's/ [0-9]{19}$/ 1704067200123456789/'
}

build_cargo() {
  local out=$1 app=$TARGET/.work/cargo-app
  rmtree "$app"
  mkdir -p "$app/.cargo" "$out"
  cp -r "$DS/cargo-app/." "$app/"
  chmod -R u+w "$app"
  cat >"$app/.cargo/config.toml" <<'EOF'
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
EOF
  python3 "$DS/cargo_registry.py" "$out/cargo-home" >&2
  log "cargo: cargo build --offline --locked (debug)"
  (cd "$app" && CARGO_HOME="$out/cargo-home" CARGO_TARGET_DIR="$out/target" CARGO_TERM_COLOR=never \
     cargo build --offline --locked -q 2>&1 | grep -v '^warning\|^note' >&2 || true)
  [ -x "$out/target/debug/cachekit-bench-app" ] || { echo "cargo build failed" >&2; exit 1; }
  rm -rf "$out/cargo-home/.package-cache" "$out/cargo-home/.global-cache" "$out/cargo-home/.package-cache-mutate"
  rmtree "$app"
}

build_pnpm() {
  local out=$1 app=$TARGET/.work/pnpm-app
  if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
    log "npm i -g pnpm@$PNPM_VERSION"
    npm i -g "pnpm@$PNPM_VERSION" >"$TARGET/.work/npm.log" 2>&1 || { tail -20 "$TARGET/.work/npm.log"; exit 1; }
  fi
  rmtree "$app"
  mkdir -p "$app"
  cp "$DS/pnpm-app/package.json" "$DS/pnpm-app/pnpm-lock.yaml" "$app/"
  chmod u+w "$app"/*
  log "pnpm: install --frozen-lockfile (store-dir $out)"
  (cd "$app" && CI=true pnpm install --frozen-lockfile --ignore-scripts --reporter=silent \
     --store-dir "$out" >&2)
  rmtree "$app"
}

# ---------------------------------------------------------------- main
for s in $SETS; do
  r=$(recipe "$s")
  if [ -d "$TARGET/$s" ] && [ "$(cat "$TARGET/.stamps/$s" 2>/dev/null)" = "$r" ]; then
    log "$s: up to date (recipe $r)"
  else
    log "$s: building (recipe $r)"
    t0=$(date +%s)
    rmtree "$TARGET/$s.tmp"
    mkdir -p "$TARGET/$s.tmp"
    "build_$s" "$TARGET/$s.tmp"
    normalize "$TARGET/$s.tmp"
    rmtree "$TARGET/$s"
    mv "$TARGET/$s.tmp" "$TARGET/$s"
    echo "$r" >"$TARGET/.stamps/$s"
    log "$s: built in $(( $(date +%s) - t0 ))s"
  fi
done
rmtree "$TARGET/.work"
echo "dataset  files         dirs   bytes"
for s in $SETS; do stats "$s" "$TARGET/$s"; done
