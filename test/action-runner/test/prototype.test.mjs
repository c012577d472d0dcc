// The prototype's 8 tests (shared/reference/action-runner/test.mjs), ported to the harness API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { runAction, hashFiles, parseEnvFile, loadAction, evalExpr } from "../run-action.mjs";
import { tempDir, copyFixture, RUNNER_OS } from "./helpers.mjs";

test("sample composite: outputs, env/path files, nested composite + JS post, continue-on-error", async () => {
  const r = await runAction({ workspace: copyFixture("workspace"), uses: "./.github/actions/main" });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.greeting, `hello local-on-${RUNNER_OS} (go 1.2)`); // default 1.20 is a YAML number -> "1.2"
  assert.equal(r.outputs.multiline, "line1\nline2");
  assert.match(r.outputs.nested, /^hello .* \| hello .* \| unused=''$/);
  assert.match(r.outputs.key, /^Linux-go-[0-9a-f]{64}$/);
  assert.equal(r.outputs["status-seen"], "always:failure/success:skipped:success");
  assert.equal(r.steps.js.outputs["js-out"], "from-main");
  assert.deepEqual(r.post.map((p) => p.outcome), ["success"]);
  assert.match(r.log, /post ran with token abc/);
  assert.deepEqual(r.env, { FROM_STEP: "set-by-greet" });
});

test("sample composite: failure path runs always()/failure() steps, skips the rest, post still runs", async () => {
  const r = await runAction({ workspace: copyFixture("workspace"), uses: "./.github/actions/main", with: { fail: "true" } });
  assert.equal(r.outcome, "failure");
  assert.equal(r.outputs["status-seen"], "always:failure/success:failure:skipped");
  assert.equal(r.steps["on-failure"].outcome, "success");
  assert.deepEqual(r.post.map((p) => p.outcome), ["success"]);
});

test("template strings: quotes, braces, heredocs and folded scalars survive ${{ }} substitution", async () => {
  const ws = tempDir({
    "a/action.yml": `name: a
description: d
inputs: { x: { description: x, default: "X'1" } }
outputs:
  heredoc: { description: h, value: "\${{ steps.s.outputs.h }}" }
  folded: { description: f, value: "\${{ steps.s.outputs.f }}" }
  literal: { description: l, value: "\${{ '{{ not an expression }}' }}" }
runs:
  using: composite
  steps:
    - id: s
      shell: bash
      env:
        FOLDED: >-
          one \${{ inputs.x }}
          two
      run: |
        test 'a' = 'a' && test "\${{ inputs.x }}" != ''   # several '' escapes in one format() literal
        cat <<EOF > out.txt
        {\${{ inputs.x }}}
        EOF
        { echo "h<<__D"; cat out.txt; echo "__D"; } >> "$GITHUB_OUTPUT"
        echo "f=$FOLDED" >> "$GITHUB_OUTPUT"
`,
  });
  const r = await runAction({ workspace: ws, uses: "./a" });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.heredoc, "{X'1}"); // heredoc terminator is not indented, value not re-escaped
  assert.equal(r.outputs.folded, "one X'1 two");
  assert.equal(r.outputs.literal, "{{ not an expression }}");
});

test("if: semantics: implicit success(), string truthiness, condition errors stop the action", async () => {
  const c = { status: () => "success", values: { inputs: { a: "false" } } };
  assert.equal(evalExpr("success() && (inputs.a)", c).coerceString(), "false"); // 'false' string is truthy...
  assert.equal(evalExpr("!!(success() && (inputs.a))", c).coerceString(), "true"); // ...so `if: ${{ inputs.a }}` runs
  const ws = tempDir({
    "a/action.yml": `name: a
description: d
runs:
  using: composite
  steps:
    - { id: mixed, if: "\${{ false }} && \${{ false }}", shell: bash, run: "true" }
    - { shell: bash, run: "exit 1" }
    - { id: bad, if: "always() && fromJSON('{')", shell: bash, run: "echo never" }
    - { id: never, if: "always()", shell: bash, run: "echo never" }
`,
  });
  const r = await runAction({ workspace: ws, uses: "./a" });
  assert.equal(r.outcome, "failure");
  assert.equal(r.steps.mixed.outcome, "success"); // success() && (format('{0} && {1}', false, false)): a non-empty string
  assert.equal(r.steps.bad.outcome, "failure");
  assert.equal(r.steps.never, undefined); // the runner `break`s out of the step loop on a condition error
});

test("GITHUB_ENV/GITHUB_PATH: heredoc env, later path entries first, NODE_OPTIONS blocked", async () => {
  const ws = tempDir({
    "a/action.yml": `name: a
description: d
outputs: { p: { description: p, value: "\${{ steps.b.outputs.p }}" } }
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        printf 'ML<<X\\nl1\\nl2\\nX\\nNODE_OPTIONS=--bad\\n' >> "$GITHUB_ENV"
        echo /first >> "$GITHUB_PATH"; echo /second >> "$GITHUB_PATH"
    - id: b
      shell: bash
      run: |
        test "$ML" = $'l1\\nl2' && test -z "\${NODE_OPTIONS:-}"
        echo "p=\${PATH%%:/usr*}" >> "$GITHUB_OUTPUT"
`,
  });
  const r = await runAction({ workspace: ws, uses: "./a" });
  assert.equal(r.outcome, "success", r.log);
  assert.ok(r.outputs.p.startsWith("/second:/first"), r.outputs.p);
  assert.match(r.log, /Can't store NODE_OPTIONS/);
});

test("schema validation comes from @actions/workflow-parser", () => {
  const ws = tempDir({ "a/action.yml": "name: a\ndescription: d\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n" });
  assert.throws(() => loadAction(path.join(ws, "a")), /Required property is missing: shell/);
  const ws2 = tempDir({
    "a/action.yml": "name: a\ndescription: d\nruns:\n  using: composite\n  steps:\n    - run: echo ${{ secrets.X }}\n      shell: bash\n",
  });
  assert.throws(() => loadAction(path.join(ws2, "a")), /secrets/);
});

test("file-command parser mirrors EnvFileKeyValuePairs", () => {
  assert.deepEqual(parseEnvFile("a=1\nb=x=y\nc<<E\nl1\nl2\nE\n\nd<<E\nE\n"), [["a", "1"], ["b", "x=y"], ["c", "l1\nl2"], ["d", ""]]);
  assert.deepEqual(parseEnvFile("k<<=E\nv\n=E\na=b<<c\n"), [["k", "v"], ["a", "b<<c"]]); // whichever of = / << comes first
  assert.throws(() => parseEnvFile("c<<E\nl1\n"), /Matching delimiter not found/);
  assert.throws(() => parseEnvFile("c<<E\nl1"), /EOF marker missing new line/);
  assert.throws(() => parseEnvFile("novalue\n"), /Invalid format/);
});

test("hashFiles: sha256 over per-file sha256 digests, traversal order, dotfiles, '' on no match", () => {
  const ws = tempDir({ "go.sum": "r", "a/go.sum": "a", "a.b/go.sum": "ab", ".hidden/go.sum": "h", "B/go.sum": "B", "x.txt": "no" });
  // @actions/glob walks depth-first with each directory's entries in readdir (libuv: strcmp-sorted)
  // order, so a/go.sum comes before a.b/go.sum (a plain full-path sort would put a.b first).
  const order = [".hidden/go.sum", "B/go.sum", "a/go.sum", "a.b/go.sum", "go.sum"];
  const outer = createHash("sha256");
  for (const f of order) outer.update(createHash("sha256").update(fs.readFileSync(path.join(ws, f))).digest());
  assert.equal(hashFiles(ws, ["**/go.sum"]), outer.digest("hex"));
  assert.equal(hashFiles(ws, ["nothing/**"]), "");
  assert.equal(
    hashFiles(ws, ["**/go.sum", "!a/**", "!a.b/**", "!.hidden/**", "!B/**"]),
    createHash("sha256").update(createHash("sha256").update("r").digest()).digest("hex"),
  );
  const oracle = process.env.RUNNER_HASHFILES_JS; // optional: actions/runner src/Misc/layoutbin/hashFiles/index.js
  if (oracle)
    for (const pats of [["**/go.sum"], ["**"], ["a"], ["**/go.sum", "!a/**"]]) {
      const p = spawnSync(process.execPath, [oracle], { cwd: ws, env: { ...process.env, patterns: pats.join("\n") }, encoding: "utf8" });
      assert.equal(hashFiles(ws, pats), /__OUTPUT__(.*)__OUTPUT__/.exec(p.stderr)[1], pats.join(","));
    }
});
