// runJob: a workflow job's step list, job-level if: semantics, shared job state, logs.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runJob, runAction } from "../run-action.mjs";
import { tempDir, copyFixture, RUNNER_OS, RUNNER_ARCH } from "./helpers.mjs";

const ACTION = (body) => `name: a\ndescription: d\n${body}`;

test("job steps: outputs flow between steps; a failure skips later steps except always()/failure()", async () => {
  const ws = tempDir({
    "greet/action.yml": ACTION(`inputs:
  who: { description: w, default: world }
outputs:
  msg: { description: m, value: "\${{ steps.s.outputs.msg }}" }
runs:
  using: composite
  steps:
    - id: s
      shell: bash
      run: echo "msg=hello \${{ inputs.who }}" >> "$GITHUB_OUTPUT"
`),
  });
  const r = await runJob({
    workspace: ws,
    steps: [
      { id: "greet", uses: "./greet", with: { who: "job" } },
      { id: "echo", run: 'echo "got=${{ steps.greet.outputs.msg }}" >> "$GITHUB_OUTPUT"' },
      { id: "boom", run: "echo about to fail; exit 7" },
      { id: "skipped", run: "echo should not run" },
      { id: "cleanup", if: "always()", uses: "./greet", with: { who: "${{ steps.boom.outcome }}" } },
      { id: "on-failure", if: "failure()", run: "echo failure handler" },
      { id: "on-success", if: "success()", run: "echo nope" },
    ],
  });
  assert.equal(r.outcome, "failure");
  assert.deepEqual(
    r.steps.map((s) => [s.id, s.outcome]),
    [["greet", "success"], ["echo", "success"], ["boom", "failure"], ["skipped", "skipped"], ["cleanup", "success"], ["on-failure", "success"], ["on-success", "skipped"]],
  );
  assert.equal(r.step("greet").outputs.msg, "hello job");
  assert.equal(r.step("echo").outputs.got, "hello job");
  assert.equal(r.step("cleanup").outputs.msg, "hello failure");
  assert.match(r.step("boom").log, /about to fail\n.*Process completed with exit code 7/s);
  assert.doesNotMatch(r.step("boom").log, /failure handler/); // per-step logs are separate
  assert.match(r.log, /about to fail[\s\S]*failure handler/); // the job log has everything, in order
  assert.deepEqual(r.step("skipped").outputs, {});
});

test("continue-on-error keeps the job green; outcome vs conclusion", async () => {
  const r = await runJob({
    steps: [
      { id: "soft", run: "exit 3", "continue-on-error": true },
      { id: "next", run: 'echo "o=${{ steps.soft.outcome }}/${{ steps.soft.conclusion }}" >> "$GITHUB_OUTPUT"' },
    ],
  });
  assert.equal(r.outcome, "success");
  assert.equal(r.step("soft").outcome, "failure");
  assert.equal(r.step("soft").conclusion, "success");
  assert.equal(r.step("next").outputs.o, "failure/success");
});

test("a job-level condition error fails that step and the job goes on (always() still runs)", async () => {
  const r = await runJob({
    steps: [
      { id: "bad", if: "fromJSON('{')", run: "echo never" },
      { id: "later", run: "echo later" },
      { id: "always", if: "always()", run: "echo always" },
    ],
  });
  assert.equal(r.outcome, "failure");
  assert.deepEqual(r.steps.map((s) => s.outcome), ["failure", "skipped", "success"]);
});

test("GITHUB_ENV accumulates across steps and composites; step env wins over it; env context", async () => {
  const ws = tempDir({
    "setenv/action.yml": ACTION(`outputs:
  seen: { description: s, value: "\${{ steps.b.outputs.seen }}" }
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "FROM_COMPOSITE=c1" >> "$GITHUB_ENV"
        echo "SHARED=from-composite" >> "$GITHUB_ENV"
        echo "OVERRIDDEN=from-composite" >> "$GITHUB_ENV"
    - id: b
      shell: bash
      run: echo "seen=$FROM_COMPOSITE/$SHARED/$OVERRIDDEN/\${{ env.SHARED }}" >> "$GITHUB_OUTPUT"
`),
  });
  const r = await runJob({
    workspace: ws,
    env: { JOB_LEVEL: "j", SHARED: "job", REPO: "${{ github.repository }}" },
    steps: [
      { run: 'echo "FIRST=1" >> "$GITHUB_ENV"; echo "SHARED=step1" >> "$GITHUB_ENV"' },
      { id: "c", uses: "./setenv", env: { OVERRIDDEN: "step-env" } },
      {
        id: "check",
        env: { STEP_ONLY: "s" },
        run: 'echo "v=$FIRST/$SHARED/$FROM_COMPOSITE/$OVERRIDDEN/$JOB_LEVEL/$STEP_ONLY/$REPO/${{ env.FIRST }}" >> "$GITHUB_OUTPUT"',
      },
      { id: "stepenv", env: { SHARED: "explicit" }, run: 'echo "v=$SHARED" >> "$GITHUB_OUTPUT"' },
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  // inside the composite: its own GITHUB_ENV writes are seen, except where the invoking step's
  // env: sets the same name (runner#1794: the invoking step's env overrides win)
  assert.equal(r.step("c").outputs.seen, "c1/from-composite/step-env/from-composite");
  assert.equal(r.step("check").outputs.v, "1/from-composite/c1/from-composite/j/s/local/repo/1");
  assert.equal(r.step("stepenv").outputs.v, "explicit"); // a step's env: beats $GITHUB_ENV
  assert.equal(r.env.SHARED, "from-composite");
  assert.equal(r.env.JOB_LEVEL, "j");
});

test("steps share RUNNER_TEMP and a fake HOME; contexts and GITHUB_*/RUNNER_* variables", async () => {
  const home = tempDir({}, "home-");
  const r = await runJob({
    home,
    github: { repository: "acme/widgets", ref: "refs/tags/v1.2.3" },
    runner: { arch: "ARM64" },
    steps: [
      { run: 'echo hi > "$RUNNER_TEMP/shared.txt"; mkdir -p ~/.cache/x && echo cached > ~/.cache/x/f' },
      {
        id: "read",
        run: [
          'echo "temp=$(cat "$RUNNER_TEMP/shared.txt")" >> "$GITHUB_OUTPUT"',
          'echo "home=$HOME" >> "$GITHUB_OUTPUT"',
          'echo "cached=$(cat ~/.cache/x/f)" >> "$GITHUB_OUTPUT"',
          'echo "ctx=${{ runner.os }}/${{ runner.arch }}/${{ github.repository }}/${{ github.ref }}/${{ github.ref_name }}/${{ github.ref_type }}/${{ github.repository_owner }}" >> "$GITHUB_OUTPUT"',
          'echo "vars=$RUNNER_OS/$RUNNER_ARCH/$GITHUB_REPOSITORY/$GITHUB_REF/$GITHUB_REF_NAME/$CI/$GITHUB_ACTIONS" >> "$GITHUB_OUTPUT"',
          'test "$GITHUB_WORKSPACE" = "${{ github.workspace }}" && test "$PWD" = "$GITHUB_WORKSPACE"',
          'test "$RUNNER_TEMP" = "${{ runner.temp }}" && test -f "$GITHUB_EVENT_PATH"',
          'test -z "${ACTIONS_RUNTIME_TOKEN:-}" && test -z "${ACTIONS_RESULTS_URL:-}"',
        ].join("\n"),
      },
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  const o = r.step("read").outputs;
  assert.equal(o.temp, "hi");
  assert.equal(o.home, home);
  assert.equal(o.cached, "cached");
  assert.equal(r.home, home);
  assert.notEqual(o.home, os.homedir());
  assert.equal(o.ctx, `${RUNNER_OS}/ARM64/acme/widgets/refs/tags/v1.2.3/v1.2.3/tag/acme`);
  assert.equal(o.vars, `${RUNNER_OS}/ARM64/acme/widgets/refs/tags/v1.2.3/v1.2.3/true/true`);
  assert.ok(fs.existsSync(path.join(home, ".cache/x/f")));
  assert.equal(fs.readFileSync(path.join(r.temp, "shared.txt"), "utf8"), "hi\n");
  assert.ok(RUNNER_ARCH === undefined || ["X64", "ARM64"].includes(RUNNER_ARCH));
});

test("shells: workflow default `bash -e {0}` (no pipefail) vs `shell: bash`; sh; custom format; defaults.run", async () => {
  const ws = tempDir({ "sub/marker": "", "comp/action.yml": ACTION(`outputs:
  pwd: { description: p, value: "\${{ steps.p.outputs.pwd }}" }
runs:
  using: composite
  steps:
    - id: p
      shell: bash
      run: echo "pwd=$PWD" >> "$GITHUB_OUTPUT"
`) });
  const r = await runJob({
    workspace: ws,
    defaults: { run: { "working-directory": "sub" } },
    steps: [
      { id: "default", run: "false | true; echo \"opts=$-\" >> \"$GITHUB_OUTPUT\"; test -f marker" },
      { id: "bash", shell: "bash", run: "false | true", "continue-on-error": true },
      { id: "sh", shell: "sh", run: 'echo "sh=ok" >> "$GITHUB_OUTPUT"' },
      { id: "custom", shell: "bash -c \"source {0}\"", run: 'echo "custom=$0" >> "$GITHUB_OUTPUT"' },
      { id: "wd", "working-directory": ".", run: 'echo "pwd=$PWD" >> "$GITHUB_OUTPUT"' },
      { id: "comp", uses: "./comp" }, // job defaults.run do not apply inside a composite
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.step("default").outcome, "success"); // no pipefail without an explicit shell
  assert.match(r.step("default").outputs.opts, /e/);
  assert.equal(r.step("bash").outcome, "failure"); // pipefail with shell: bash
  assert.equal(r.step("sh").outputs.sh, "ok");
  assert.equal(r.step("custom").outputs.custom, "bash");
  assert.equal(r.step("wd").outputs.pwd, ws);
  assert.equal(r.step("comp").outputs.pwd, ws);
});

test("timeout-minutes kills the step; background processes are killed at job end", async () => {
  const pidFile = path.join(tempDir({}, "pid-"), "pid");
  const t0 = Date.now();
  const r = await runJob({
    steps: [
      { id: "bg", run: `sleep 300 & echo $! > ${pidFile}` },
      { id: "slow", "timeout-minutes": 0.02, run: "sleep 30" },
      { id: "after", if: "always()", run: "echo after" },
    ],
  });
  assert.ok(Date.now() - t0 < 20_000);
  assert.equal(r.step("slow").outcome, "failure");
  assert.match(r.step("slow").log, /timed out/);
  assert.equal(r.step("after").outcome, "success");
  const pid = Number(fs.readFileSync(pidFile, "utf8"));
  await new Promise((res) => setTimeout(res, 200));
  // orphan cleaned up: gone, or a zombie where PID 1 does not reap (containers)
  const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  assert.ok(stat === "" || /^\d+ \(.*\) Z /.test(stat), stat);
});

test("job definitions are validated with the workflow schema; YAML step lists work", async () => {
  await assert.rejects(runJob({ steps: [{ run: "true", continue_on_error: true }] }), /Unexpected value 'continue_on_error'/);
  await assert.rejects(runJob({ steps: [{ run: "echo ${{ nope.x }}" }] }), /Unrecognized named-value: 'nope'/);
  const r = await runJob({
    secrets: { MY_SECRET: "s3cr3t-value" },
    vars: { V: "var" },
    steps: `
- id: a
  env:
    NUM: 1.20
  run: echo "n=$NUM v=\${{ vars.V }} s=\${{ secrets.MY_SECRET }}" >> "$GITHUB_OUTPUT"
`,
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.step("a").outputs.n, "1.2 v=var s=s3cr3t-value");
  assert.ok(r.masks.includes("s3cr3t-value"));
});

test("workflow commands: annotations, add-mask, step summary, maskedLog", async () => {
  const r = await runJob({
    steps: [
      {
        id: "cmds",
        run: [
          "echo '::add-mask::hide-me-123'",
          "echo 'value hide-me-123 here'",
          "echo '::warning file=a.txt,line=3::careful%0Anow'",
          "echo '::error title=T::bad thing'",
          "echo '::stop-commands::tok'",
          "echo '::error::not a command'",
          "echo '::tok::'",
          'echo "## summary" >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
      },
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.deepEqual(
    r.annotations.map((a) => [a.level, a.message, a.properties]),
    [["warning", "careful\nnow", { file: "a.txt", line: "3" }], ["error", "bad thing", { title: "T" }]],
  );
  assert.ok(r.masks.includes("hide-me-123"));
  assert.match(r.log, /value hide-me-123 here/);
  assert.doesNotMatch(r.maskedLog, /hide-me-123/);
  assert.equal(r.summary, "## summary\n");
  assert.equal(r.step("cmds").summary, "## summary\n");
});

test("stdout and stderr are captured interleaved, per step", async () => {
  const r = await runJob({ steps: [{ id: "io", run: "echo out1; echo err1 >&2; echo out2; echo err2 >&2" }] });
  assert.match(r.step("io").log, /out1\nerr1\nout2\nerr2\n/);
});

test("relative local actions other than ./ are rejected like the runner does", async () => {
  const ws = tempDir({
    "a/action.yml": ACTION("runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo first\n    - uses: ../b\n"),
    "b/action.yml": ACTION("runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo b\n"),
    "c/action.yml": ACTION("runs:\n  using: composite\n  steps:\n    - uses: ${{ github.action_path }}/../b\n"),
  });
  const r = await runJob({ workspace: ws, steps: [{ id: "a", uses: "./a" }, { id: "c", if: "always()", uses: "./c" }] });
  assert.equal(r.step("a").outcome, "failure");
  assert.match(r.step("a").log, /Expected format \{org\}\/\{repo\}\[\/path\]@ref\. Actual '\.\.\/b'/);
  assert.doesNotMatch(r.step("a").log, /first/); // the action fails to load: none of its steps run
  assert.equal(r.step("c").outcome, "failure");
  assert.match(r.step("c").log, /Unrecognized named-value: 'github'/); // `uses:` takes no expressions
});

test("nested uses: ./ resolves against GITHUB_WORKSPACE, not the calling action's directory", async () => {
  const ws = tempDir({
    "outer/action.yml": ACTION(`outputs:
  who: { description: w, value: "\${{ steps.n.outputs.who }}" }
runs:
  using: composite
  steps:
    - id: n
      uses: ./inner
`),
    "inner/action.yml": ACTION(`outputs:
  who: { description: w, value: "\${{ steps.s.outputs.who }}" }
runs:
  using: composite
  steps:
    - id: s
      shell: bash
      run: echo "who=workspace-inner:$GITHUB_ACTION_PATH" >> "$GITHUB_OUTPUT"
`),
    "outer/inner/action.yml": ACTION("runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: exit 1\n"),
  });
  const r = await runAction({ workspace: ws, uses: "./outer" });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.who, `workspace-inner:${ws}/./inner`);
  assert.equal(r.children[0].children[0].outcome, "success");
});

test("composite inputs: defaults, no INPUT_* variables, required not enforced, unexpected inputs warn", async () => {
  const ws = tempDir({
    "a/action.yml": ACTION(`inputs:
  must: { description: m, required: true }
  dflt: { description: d, default: "\${{ runner.os }}-\${{ github.event_name }}" }
  Mixed-Case: { description: c, default: x }
outputs:
  out: { description: o, value: "\${{ steps.s.outputs.out }}" }
runs:
  using: composite
  steps:
    - id: s
      shell: bash
      run: |
        test -z "$(env | grep '^INPUT_' || true)"
        echo "out=[\${{ inputs.must }}][\${{ inputs.dflt }}][\${{ inputs.mixed-case }}]" >> "$GITHUB_OUTPUT"
`),
  });
  const r = await runAction({ workspace: ws, uses: "./a", with: { extra: "1", "MIXED-CASE": "given" } });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.out, `[][${RUNNER_OS}-push][given]`);
  assert.match(r.log, /##\[warning\]Unexpected input\(s\) 'extra', valid inputs are \['must', 'dflt', 'Mixed-Case'\]/);
});

test("a node action gets INPUT_* and the runtime variables; run steps get neither", async () => {
  const ws = copyFixture("workspace");
  fs.mkdirSync(path.join(ws, "n"));
  fs.writeFileSync(
    path.join(ws, "n/action.yml"),
    ACTION("inputs:\n  my input: { description: i, default: dflt }\nruns:\n  using: node20\n  main: main.cjs\n"),
  );
  fs.writeFileSync(
    path.join(ws, "n/main.cjs"),
    `const fs = require("fs");
fs.appendFileSync(process.env.GITHUB_OUTPUT, "seen=" + [process.env.INPUT_MY_INPUT, process.env.ACTIONS_RUNTIME_TOKEN, process.env.ACTIONS_RESULTS_URL, process.env.ACTIONS_CACHE_SERVICE_V2, process.env.GITHUB_ACTION_PATH || "unset"].join("|") + "\\n");
`,
  );
  const r = await runJob({
    workspace: ws,
    runtime: { token: "rt-token", resultsUrl: "http://127.0.0.1:1234/" },
    steps: [{ id: "n", uses: "./n" }, { id: "r", run: 'echo "t=${ACTIONS_RUNTIME_TOKEN:-none}" >> "$GITHUB_OUTPUT"' }],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.step("n").outputs.seen, "dflt|rt-token|http://127.0.0.1:1234/|True|unset");
  assert.equal(r.step("r").outputs.t, "none");
});

test("post steps of node actions run at job end, newest first, post-if against the job status", async () => {
  const ws = tempDir({});
  const mk = (name, postIf) => {
    fs.mkdirSync(path.join(ws, name));
    fs.writeFileSync(
      path.join(ws, name, "action.yml"),
      ACTION(`runs:\n  using: node20\n  main: main.cjs\n  post: post.cjs\n${postIf ? `  post-if: ${postIf}\n` : ""}`),
    );
    fs.writeFileSync(path.join(ws, name, "main.cjs"), `require("fs").appendFileSync(process.env.GITHUB_STATE, "who=${name}\\n");`);
    fs.writeFileSync(path.join(ws, name, "post.cjs"), `console.log("post of " + process.env.STATE_who);`);
  };
  mk("p1");
  mk("p2", "success()");
  mk("p3", "failure()");
  const r = await runJob({ workspace: ws, steps: [{ uses: "./p1" }, { uses: "./p2" }, { uses: "./p3" }, { run: "exit 1" }] });
  assert.equal(r.outcome, "failure");
  assert.deepEqual(r.post.map((p) => [p.uses, p.outcome]), [["./p3", "success"], ["./p2", "skipped"], ["./p1", "success"]]);
  assert.match(r.log, /post of p3[\s\S]*post of p1/);
});

test("composite nesting is capped at 9 levels", async () => {
  const ws = tempDir({ "loop/action.yml": ACTION("runs:\n  using: composite\n  steps:\n    - uses: ./loop\n") });
  const r = await runAction({ workspace: ws, uses: "./loop" });
  assert.equal(r.outcome, "failure");
  assert.match(r.log, /Composite action depth exceeded max depth 9/);
});

test("the harness's own environment does not leak into steps unless asked", async () => {
  process.env.CACHEKIT_LEAK_TEST = "leak";
  process.env.HARNESS_KEEP_ME = "kept";
  try {
    const r = await runJob({ steps: [{ id: "e", run: 'echo "v=${CACHEKIT_LEAK_TEST:-none}/${HARNESS_KEEP_ME:-none}" >> "$GITHUB_OUTPUT"' }] });
    assert.equal(r.step("e").outputs.v, "none/kept");
    const r2 = await runJob({ inheritEnv: ["CACHEKIT_LEAK_TEST"], steps: [{ id: "e", run: 'echo "v=${CACHEKIT_LEAK_TEST:-none}/${HARNESS_KEEP_ME:-none}" >> "$GITHUB_OUTPUT"' }] });
    assert.equal(r2.step("e").outputs.v, "leak/none");
  } finally {
    delete process.env.CACHEKIT_LEAK_TEST;
    delete process.env.HARNESS_KEEP_ME;
  }
});

test("cleanup() removes the job's temp root even with a read-only Go-module-cache-like tree", async () => {
  const r = await runJob({
    steps: [{ run: "mkdir -p ~/go/pkg/mod/x@v1 && echo x > ~/go/pkg/mod/x@v1/f && chmod 0444 ~/go/pkg/mod/x@v1/f && chmod 0555 ~/go/pkg/mod/x@v1" }],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.ok(fs.existsSync(path.join(r.home, "go/pkg/mod/x@v1/f")));
  r.cleanup();
  assert.ok(!fs.existsSync(r.root));
});
