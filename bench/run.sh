#!/usr/bin/env bash
# run.sh — benchmark cachekit save/restore (local backend) against the
# `tar --posix | zstd -T0 -3` / `zstd -d | tar -x` baseline, and (s3 variant) cachekit's S3
# backend against the sequential peer way (tar|zstd to a temp file, then upload; download, then
# zstd -d|tar -x) on a private Ceph RGW, in one run.
#
# Usage:
#   bench/run.sh [--datasets "gomod gobuild cargo pnpm"] [--data DIR] [--work DIR]
#                [--runs N] [--variants "tmpfs disk cold s3"] [--settle S] [--no-verify]
#                [--strict-targets] [--s3-client auto|aws|curl] [--s3-args "CACHEKIT ARGS"]
#   bench/run.sh --smoke [--work DIR] [--keep]
#
#   --data DIR     trees from bench/make-datasets.sh (default $CACHEKIT_BENCH_DIR/data;
#                  CACHEKIT_BENCH_DIR defaults to ../bench-data beside the repo)
#   --work DIR     scratch space for archives, stores and restores, on the disk to
#                  measure (default $CACHEKIT_BENCH_DIR/run). A tmpfs is mounted at
#                  DIR/tmpfs for the tmpfs variant (root), else /dev/shm is used.
#   --runs N       timed runs per measurement (default 5); +1 warm-up for warm saves
#   --variants     tmpfs: all in RAM (CPU/pipeline efficiency); disk: on --work's
#                  filesystem (file creation dominates restore); cold: save after
#                  dropping the page cache (root); s3: cachekit --backend s3 against a
#                  throwaway Ceph RGW (test/servers/start-rgw.sh on free loopback ports, own
#                  RGW_DIR, memstore; started before, stopped after, also on failure or
#                  Ctrl-C) vs `tar|zstd -o tmp` then upload, and download to tmp then
#                  `zstd -d|tar -x`; restores into fresh dirs on --work's disk.
#                  Default: all four (s3 only if radosgw is installed).
#   --s3-client    the s3 baseline's transfer tool: aws (`aws s3 cp`, default when the aws
#                  CLI is installed) or curl (`curl --aws-sigv4`, one PUT / one GET)
#   --s3-args      extra cachekit arguments for the s3 variant, e.g.
#                  "--part-size 32M --concurrency 8" (defaults: 16M, 4)
#   --disk-restore-prep drop|settle
#                  ext4 without a journal creates files ~10x slower for 60-360 s after
#                  a mass delete (while the inode-table blocks are cached). drop (root,
#                  default): sync + drop the page cache before every disk restore, then
#                  re-read the archive/store; settle: wait --settle S (default 60) after
#                  our own last mass delete
#   --prefault-mib N
#                  before every timed command (both contenders), touch and free N MiB of
#                  memory (default 2048; 0 = off; smoke: off). This VM hands freed memory
#                  back to the host (virtio-balloon free page reporting); touching it again
#                  is slow and erratic, and a just-freed pool is reused first
#   --smoke        tiny synthetic datasets (make-datasets.sh --small), 1 run, disk and s3
#                  variants (s3 skipped with a note when radosgw is not installed), in a
#                  temporary --work; fails if cachekit errors or a restored tree differs
#                  from the source. < 1 min. For the test suite.
#   --keep         (smoke) keep the temporary work directory
#
# Environment: CACHEKIT_BIN (default build/native/cachekit under the repo root);
#   CACHEKIT_BENCH_NICE (default -10: as root, every timed command runs in its own
#   session whose scheduler autogroup gets this nice, so other work on the machine
#   disturbs it less; 0 = off).
# Prints one line per run, then a summary table with ratios and PASS/MISS per target
# (save <= 1.0x warm, <= 0.6x cold; restore <= 0.8x; s3: save <= 0.7x, restore <= 0.6x;
# cachekit peak RSS <= 256 MiB),
# and writes WORK/results.json. Exit 1 if cachekit failed or restored a wrong tree.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BENCH_DIR=${CACHEKIT_BENCH_DIR:-$(dirname "$REPO")/bench-data}
BIN=${CACHEKIT_BIN:-$REPO/build/native/cachekit}
case $BIN in /*) ;; *) BIN=$REPO/$BIN ;; esac

SMOKE=0 KEEP=0 DATA= WORK=
ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) SMOKE=1 ;;
    --keep) KEEP=1 ;;
    --data) DATA=$2; shift ;;
    --data=*) DATA=${1#*=} ;;
    --work) WORK=$2; shift ;;
    --work=*) WORK=${1#*=} ;;
    --datasets|--runs|--variants|--settle|--warmup|--tmpfs-size|--prefault-mib|--disk-restore-prep|--s3-client) ARGS+=("$1" "$2"); shift ;;
    --s3-args) ARGS+=("--s3-args=$2"); shift ;;   # one word: its value starts with "--"
    --datasets=*|--runs=*|--variants=*|--settle=*|--warmup=*|--tmpfs-size=*|--prefault-mib=*|--disk-restore-prep=*|--s3-client=*|--s3-args=*|--no-verify|--strict-targets) ARGS+=("$1") ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ { exit } NR > 1' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -x "$BIN" ]; then
  echo "run.sh: cachekit binary not found: $BIN" >&2
  echo "  build it: cmake -S $REPO -B $REPO/build -G Ninja && cmake --build $REPO/build   (or set CACHEKIT_BIN)" >&2
  exit 2
fi

if [ "$SMOKE" = 1 ]; then
  TEMP=0
  if [ -z "$WORK" ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/cachekit-bench-smoke.XXXXXX")
    TEMP=1
  fi
  mkdir -p "$WORK"
  DATA=${DATA:-$WORK/small/data}
  "$HERE/make-datasets.sh" --small "$DATA" >"$WORK/make-small.log" 2>&1 \
    || { cat "$WORK/make-small.log" >&2; exit 1; }
  # defaults for smoke; later flags given by the caller win (argparse keeps the last)
  rc=0
  python3 "$HERE/bench.py" --bin "$BIN" --data "$DATA" --work "$WORK/run" --smoke \
    --runs 1 --warmup 0 --variants "disk s3" ${ARGS[@]+"${ARGS[@]}"} || rc=$?
  if [ "$TEMP" = 1 ] && [ "$KEEP" = 0 ]; then
    if [ "$rc" = 0 ]; then
      chmod -R u+w "$WORK" 2>/dev/null || true
      rm -rf "$WORK"
      echo "run.sh: smoke passed; removed $WORK (--keep keeps it)"
    else
      echo "run.sh: smoke failed (exit $rc); logs kept in $WORK/run/logs" >&2
    fi
  fi
  exit "$rc"
fi

DATA=${DATA:-$BENCH_DIR/data}
WORK=${WORK:-$BENCH_DIR/run}
if [ ! -d "$DATA" ]; then
  echo "run.sh: no datasets in $DATA; build them first: bench/make-datasets.sh $DATA" >&2
  exit 2
fi
# On a shared machine other work steals CPU and I/O from the timed commands: as root,
# bench.py runs each timed command (both contenders alike) in its own session whose
# autogroup gets nice $CACHEKIT_BENCH_NICE (default -10; 0 = off), and here I/O priority.
PRIO=()
if [ "$(id -u)" = 0 ] && [ "${CACHEKIT_BENCH_NICE:--10}" != 0 ] && command -v ionice >/dev/null; then
  PRIO=(ionice -c 2 -n 0)
fi
exec ${PRIO[@]+"${PRIO[@]}"} python3 "$HERE/bench.py" --bin "$BIN" --data "$DATA" --work "$WORK" ${ARGS[@]+"${ARGS[@]}"}
