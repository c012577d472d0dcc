// The three language wrappers under test, described the same way so one scenario suite runs
// against each: which action, its key scheme (FACTS.md table), which files the default
// hashFiles pattern matches (in the runner's order), a "build" step that fills the cached
// directories with fake but realistically shaped content, and where that content lives.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { RUNNER_OS, RUNNER_ARCH } from "./lib.mjs";

const prefix = (word, version, extra = "") => `${RUNNER_OS}-${RUNNER_ARCH}-cache-${word}-${version}-${extra}`;

export const GO = {
  name: "go",
  fixture: "go",
  action: "actions/golang/cache-s3",
  stateId: "golang",
  /** restore-keys for a cache-version: the key without its hash. */
  prefix: (version = "v1") => prefix("go", version),
  /** files matched by the default `**\/go.work.sum`, in the runner's order */
  lockfiles: ["go.work.sum"],
  changeLockfile: (ws) => fs.appendFileSync(path.join(ws, "go.work.sum"), "golang.org/x/text v0.7.0/go.mod h1:mrYo+phRRbMaCq/xk9113O4dZlRixOauAjOtrjsXDZ8=\n"),
  /** the helper's --path, as the action passes it */
  paths: () => ["~/.cache/go-build", "~/go/pkg/mod"],
  /** the cached directories on the machine */
  roots: (m) => ({ gocache: path.join(m.home, ".cache/go-build"), gomod: path.join(m.home, "go/pkg/mod") }),
  /** made by the build but outside the cached paths: must not come back on a fresh machine */
  uncached: (m) => [path.join(m.home, "go/bin")],
  // Go's module cache: module dirs 0555 with 0444 files (what breaks naive tar restores), the
  // download cache, and build-cache entries (<hash>-a / <hash>-d) with trim.txt.
  build: String.raw`
set -euo pipefail
mod="$HOME/go/pkg/mod"
mkmod() {
  local m="$1" v="$2" d="$mod/$1@$2"
  [ -d "$d" ] && return 0
  mkdir -p "$d/internal"
  printf 'module %s\n\ngo 1.19\n' "$m" >"$d/go.mod"
  printf 'package greet\n\n// %s %s\nfunc Hello() string { return "hello" }\n' "$m" "$v" >"$d/greet.go"
  printf 'package internal\n' >"$d/internal/doc.go"
  chmod 0444 "$d/go.mod" "$d/greet.go" "$d/internal/doc.go"
  chmod 0555 "$d/internal" "$d"
  local dl="$mod/cache/download/$m/@v"
  mkdir -p "$dl"
  printf '%s\n' "$v" >>"$dl/list"
  printf '{"Version":"%s","Time":"2024-01-02T03:04:05Z"}' "$v" >"$dl/$v.info"
  printf 'PK fake zip of %s@%s' "$m" "$v" >"$dl/$v.zip"
}
mkmod github.com/acme/greet v1.2.3
mkmod "github.com/acme/gen$GEN" "v0.$GEN.0"
gb="$HOME/.cache/go-build"
mkdir -p "$gb"
[ -f "$gb/README" ] || printf 'This directory holds cached build artifacts from the Go build system.\n' >"$gb/README"
[ -f "$gb/trim.txt" ] || date +%s >"$gb/trim.txt"
for i in 1 2 3; do
  h=$(printf 'gen%s-%s' "$GEN" "$i" | sha256sum | cut -c1-64)
  mkdir -p "$gb/$(printf %.2s "$h")"
  printf 'v1 %s %s 42 1700000000000000000\n' "$h" "$h" >"$gb/$(printf %.2s "$h")/$h-a"
  for j in $(seq 32); do echo "object $h $j"; done >"$gb/$(printf %.2s "$h")/$h-d"
done
mkdir -p "$HOME/go/bin" && printf '#!/bin/sh\n' >"$HOME/go/bin/tool" && chmod 0755 "$HOME/go/bin/tool"
echo "go build (fake) generation $GEN done"
`,
};

export const RUST = {
  name: "rust",
  fixture: "rust",
  action: "actions/rust/cache-s3",
  stateId: "rust",
  prefix: (version = "v1") => prefix("rust", version),
  lockfiles: ["Cargo.lock", "tools/xtask/Cargo.lock"],
  changeLockfile: (ws) => {
    const f = path.join(ws, "Cargo.lock");
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace('version = "1.0.11"', 'version = "1.0.14"'));
  },
  paths: () => ["~/.cargo/bin/", "~/.cargo/registry/index/", "~/.cargo/registry/cache/", "~/.cargo/git/db/", "target/"],
  roots: (m) => ({
    bin: path.join(m.home, ".cargo/bin"),
    index: path.join(m.home, ".cargo/registry/index"),
    cache: path.join(m.home, ".cargo/registry/cache"),
    gitdb: path.join(m.home, ".cargo/git/db"),
    target: path.join(m.workspace, "target"),
  }),
  uncached: (m) => [path.join(m.home, ".cargo/registry/src"), path.join(m.home, ".cargo/git/checkouts"), path.join(m.home, ".cargo/env")],
  build: String.raw`
set -euo pipefail
ch="$HOME/.cargo"
reg=index.crates.io-6f17d22bba15001f
mkdir -p "$ch/bin" "$ch/registry/index/$reg/.cache/it/oa" "$ch/registry/cache/$reg" \
  "$ch/registry/src/$reg/itoa-1.0.11/src" "$ch/git/db/helpers-0123456789abcdef/objects/pack" \
  "$ch/git/checkouts/helpers-0123456789abcdef/abc1234/src"
if [ ! -f "$ch/bin/cargo-nextest" ]; then
  printf '#!/bin/sh\necho nextest\n' >"$ch/bin/cargo-nextest" && chmod 0755 "$ch/bin/cargo-nextest"
fi
printf 'export PATH="$HOME/.cargo/bin:$PATH"\n' >"$ch/env"
[ -f "$ch/registry/index/$reg/config.json" ] || printf '{"dl":"https://static.crates.io/crates","api":"https://crates.io"}' >"$ch/registry/index/$reg/config.json"
printf 'gen %s index entry for itoa\n' "$GEN" >"$ch/registry/index/$reg/.cache/it/oa/itoa-$GEN"
for j in $(seq 64); do echo "crate gen $GEN $j"; done >"$ch/registry/cache/$reg/gen$GEN-0.$GEN.0.crate"
printf 'pub fn fmt() {}\n' >"$ch/registry/src/$reg/itoa-1.0.11/src/lib.rs"
printf 'PACK gen %s\n' "$GEN" >"$ch/git/db/helpers-0123456789abcdef/objects/pack/pack-$GEN.pack"
[ -f "$ch/git/db/helpers-0123456789abcdef/HEAD" ] || printf 'ref: refs/heads/main\n' >"$ch/git/db/helpers-0123456789abcdef/HEAD"
printf 'pub fn help() {}\n' >"$ch/git/checkouts/helpers-0123456789abcdef/abc1234/src/lib.rs"
mkdir -p target/debug/deps "target/debug/.fingerprint/app-$GEN"
[ -f target/CACHEDIR.TAG ] || printf 'Signature: 8a477f597d28d172789f06886806bc55\n' >target/CACHEDIR.TAG
printf '\177ELF fake app gen %s\n' "$GEN" >"target/debug/app-$GEN" && chmod 0755 "target/debug/app-$GEN"
printf 'rlib gen %s\n' "$GEN" >"target/debug/deps/libitoa-$GEN.rlib"
printf '%s' "$GEN" >"target/debug/.fingerprint/app-$GEN/bin-app"
echo "cargo build (fake) generation $GEN done"
`,
};

export const PNPM = {
  name: "pnpm",
  fixture: "pnpm",
  action: "actions/node/cache-pnpm-s3",
  stateId: "pnpm",
  prefix: (version = "v1") => prefix("pnpm", version, "genericnodejs-"),
  // depth first, each directory in byte order: examples/ sorts before pnpm-lock.yaml
  lockfiles: ["examples/demo/pnpm-lock.yaml", "pnpm-lock.yaml"],
  changeLockfile: (ws) => fs.appendFileSync(path.join(ws, "pnpm-lock.yaml"), "\n  is-odd@3.0.1: {}\n"),
  // The first path is `pnpm store path` (absolute), as the action computes it.
  paths: (m) => [storePath(m), "~/.pnpm-store"],
  roots: (m) => ({ store: storePath(m), dotstore: path.join(m.home, ".pnpm-store") }),
  uncached: (m) => [path.join(m.workspace, "node_modules")],
  build: String.raw`
set -euo pipefail
store="$(pnpm store path --silent)"
for s in "$store" "$HOME/.pnpm-store/v3"; do
  for i in 1 2; do
    h=$(printf 'pnpm gen%s-%s %s' "$GEN" "$i" "$s" | sha256sum | cut -c1-64)
    d="$s/files/$(printf %.2s "$h")"
    mkdir -p "$d" "$s/index/$(printf %.2s "$h")"
    for j in $(seq 16); do echo "module.exports = $j; // $h"; done >"$d/$h"
    printf '#!/usr/bin/env node\n' >"$d/$h-exec" && chmod 0755 "$d/$h-exec"
    printf '{"name":"pkg-%s-%s","version":"1.0.0","files":{}}' "$GEN" "$i" >"$s/index/$(printf %.2s "$h")/$h-pkg@1.0.0.json"
  done
done
mkdir -p node_modules/.pnpm && printf 'layoutVersion: 5\n' >node_modules/.modules.yaml
echo "pnpm install (fake) generation $GEN done"
`,
};

/** `pnpm store path` on that machine (what the action's store step computes). */
function storePath(m) {
  if (!m.pnpmStore) {
    // The action's store step runs the same command (it only creates empty dirs under ~/.local).
    m.pnpmStore = execFileSync("pnpm", ["store", "path", "--silent"], {
      cwd: m.workspace,
      env: { PATH: process.env.PATH, HOME: m.home, CI: "true" },
      encoding: "utf8",
    }).trim();
  }
  return m.pnpmStore;
}

export const LANGS = { go: GO, rust: RUST, pnpm: PNPM };
