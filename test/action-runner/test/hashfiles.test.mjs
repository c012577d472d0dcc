// hashFiles(): compared with an independent computation (sha256 over the raw sha256 digests).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { hashFiles, runAction, runJob } from "../run-action.mjs";
import { tempDir, copyFixture, expectedHash, RUNNER_OS, RUNNER_ARCH } from "./helpers.mjs";

test("golang key scheme: hashFiles in action outputs and steps equals the independent digest", async () => {
  const ws = copyFixture("workspace");
  fs.mkdirSync(path.join(ws, "mod/sub"), { recursive: true });
  fs.writeFileSync(path.join(ws, "go.work.sum"), "root sum\n");
  fs.writeFileSync(path.join(ws, "mod/sub/go.work.sum"), "nested sum\n");
  const digest = expectedHash(ws, ["go.work.sum", "mod/sub/go.work.sum"]);
  assert.match(digest, /^[0-9a-f]{64}$/);
  const r = await runAction({ workspace: ws, uses: "./.github/actions/cache-key" });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.key, `${RUNNER_OS}-${RUNNER_ARCH}-cache-go-v1-${digest}`);
  assert.equal(r.outputs["key-from-env"], r.outputs.key);
  assert.equal(r.outputs["restore-key"], `${RUNNER_OS}-${RUNNER_ARCH}-cache-go-v1-`);
});

test("no matching file: hashFiles is '' and the key equals its restore prefix", async () => {
  const r = await runAction({
    workspace: copyFixture("workspace"),
    uses: "./.github/actions/cache-key",
    with: { "cache-version": "v7" },
    runner: { os: "Linux", arch: "ARM64" },
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.key, "Linux-ARM64-cache-go-v7-");
  assert.equal(r.outputs.key, r.outputs["restore-key"]);
});

test("hashFiles is not allowed in outputs.*.value (the action fails to load, as in the runner)", async () => {
  const ws = tempDir({
    "a/action.yml": `name: a
description: d
outputs:
  k: { description: k, value: "\${{ hashFiles('**') }}" }
runs:
  using: composite
  steps:
    - { shell: bash, run: "true" }
`,
  });
  const r = await runAction({ workspace: ws, uses: "./a" });
  assert.equal(r.outcome, "failure");
  assert.match(r.log, /Unrecognized function: 'hashFiles'/);
});

test("hashFiles sees files created by earlier steps (evaluated when the expression runs)", async () => {
  const ws = tempDir({});
  const r = await runJob({
    workspace: ws,
    steps: [
      { id: "before", run: 'echo "h=${{ hashFiles(\'gen/**\') }}" >> "$GITHUB_OUTPUT"' },
      { run: "mkdir -p gen && printf one > gen/a && printf two > gen/b" },
      { id: "after", run: 'echo "h=${{ hashFiles(\'gen/**\') }}" >> "$GITHUB_OUTPUT"' },
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.step("before").outputs.h, "");
  assert.equal(r.step("after").outputs.h, expectedHash(ws, ["gen/a", "gen/b"]));
});

test("globbing rules: directories match their contents, several patterns, negation order, no braces", () => {
  const ws = tempDir({ "src/a.txt": "a", "src/deep/b.txt": "b", "src/c.md": "c", "x{1,2}.txt": "brace", "x1.txt": "one" });
  assert.equal(hashFiles(ws, ["src"]), expectedHash(ws, ["src/a.txt", "src/c.md", "src/deep/b.txt"])); // implicit descendants
  assert.equal(hashFiles(ws, ["src/*.md", "src/**/*.txt"]), expectedHash(ws, ["src/a.txt", "src/c.md", "src/deep/b.txt"]));
  assert.equal(hashFiles(ws, ["src/**", "!src/deep/**"]), expectedHash(ws, ["src/a.txt", "src/c.md"]));
  assert.equal(hashFiles(ws, ["!src/deep/**", "src/**"]), expectedHash(ws, ["src/a.txt", "src/c.md", "src/deep/b.txt"])); // later include wins
  assert.equal(hashFiles(ws, ["x{1,2}.txt"]), expectedHash(ws, ["x{1,2}.txt"])); // nobrace: literal
  assert.equal(hashFiles(ws, ["# a comment", "", "  x1.txt  "]), expectedHash(ws, ["x1.txt"]));
});

test("files outside GITHUB_WORKSPACE never count", () => {
  const outside = tempDir({ "go.sum": "outside" });
  const ws = tempDir({ "go.sum": "inside" });
  assert.equal(hashFiles(ws, [path.join(outside, "go.sum")]), "");
  assert.equal(hashFiles(ws, [path.join(outside, "go.sum"), "go.sum"]), expectedHash(ws, ["go.sum"]));
  // @actions/glob rejects '.'/'..' segments ("Relative pathing '.' and '..' is not allowed"): an error
  assert.throws(() => hashFiles(ws, [`../${path.basename(ws)}/go.sum`]), /failed\. Fail to hash files/);
});

test("symlinks: directories are not followed unless --follow-symbolic-links; a broken link is an error", async () => {
  const real = tempDir({ "lib/go.sum": "linked" });
  const ws = tempDir({ "go.sum": "top", "data.txt": "d" });
  fs.symlinkSync(path.join(real, "lib"), path.join(ws, "linkdir"));
  fs.symlinkSync(path.join(ws, "data.txt"), path.join(ws, "link.sum"));
  assert.equal(hashFiles(ws, ["**/*.sum"]), expectedHash(ws, ["go.sum", "link.sum"])); // file link hashed via target
  assert.equal(hashFiles(ws, ["--follow-symbolic-links", "**/*.sum"]), expectedHash(ws, ["go.sum", "link.sum", "linkdir/go.sum"]));
  assert.equal(hashFiles(ws, ["--FOLLOW-SYMBOLIC-LINKS", "**/*.sum"]), hashFiles(ws, ["--follow-symbolic-links", "**/*.sum"]));
  assert.throws(() => hashFiles(ws, ["--bogus", "**"]), /Invalid glob option --bogus/);

  fs.symlinkSync(path.join(ws, "missing"), path.join(ws, "broken.sum"));
  assert.throws(() => hashFiles(ws, ["**/*.sum"]), /hashFiles\('\*\*\/\*\.sum'\) failed\. Fail to hash files under directory/);
  const r = await runJob({ workspace: ws, steps: [{ id: "k", run: "echo ${{ hashFiles('**/*.sum') }}" }] });
  assert.equal(r.step("k").outcome, "failure");
  assert.match(r.step("k").log, /hashFiles\('\*\*\/\*\.sum'\) failed/);
});
