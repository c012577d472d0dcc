// The GitHub cache through the actions (issue 5): the one pinned actions/github-script step that
// hands ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL to the helper's step, and only to it.
//   - fallback on: the step runs; the helper step gets the token in its env; later steps, the
//     job env ($GITHUB_ENV) and files never see it; the log masks it. With S3 down, the entry
//     goes to the GitHub cache (test/gha double + Azurite) and comes back from it.
//   - fallback off: the step does not run, in the restore and in the save action.
//   - backend: github (root action): a round trip through the GitHub cache alone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Machine, REPO, SHA, allFiles, logWithoutMaskCommands, makeStore, snapshots, tempDir, uses } from "./lib.mjs";
import { GO } from "./langs.mjs";
import { jobSteps, ok } from "./scenarios.mjs";

const sha256hex = (s) => createHash("sha256").update(s).digest("hex");

// The cache service double + Azurite (test/gha), one instance for this file.
const gha = { dir: tempDir("gha-servers"), env: {} };
before(() => {
  const out = execFileSync(path.join(REPO, "test/gha/start.sh"), {
    env: { ...process.env, CACHEKIT_GHA_DIR: gha.dir },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 300_000,
  });
  for (const line of out.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) gha.env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  assert.ok(gha.env.ACTIONS_RESULTS_URL && gha.env.ACTIONS_RUNTIME_TOKEN, `start.sh printed:\n${out}`);
});
after(() => {
  execFileSync(path.join(REPO, "test/gha/stop.sh"), { env: { ...process.env, CACHEKIT_GHA_DIR: gha.dir }, stdio: "ignore" });
});
const runtime = () => ({ token: gha.env.ACTIONS_RUNTIME_TOKEN, resultsUrl: gha.env.ACTIONS_RESULTS_URL });

/** S3 that is down (nothing listens on port 9): fails at once, so the fallback decides. */
const S3_DOWN = { backend: "s3", endpoint: "127.0.0.1:9", insecure: "true", bucket: "ci-actions-cache", "retry-count": "0" };

/** A run: step after the restore that reports what it can see of the token. */
const PROBE = {
  id: "probe",
  run: 'echo "seen=${ACTIONS_RUNTIME_TOKEN:-none}|${CACHEKIT_GITHUB_TOKEN:-none}|${CACHEKIT_GITHUB_RESULTS_URL:-none}" >> "$GITHUB_OUTPUT"',
};

function withProbe(steps) {
  return [steps[0], PROBE, ...steps.slice(1)];
}

/** The token reached exactly the helper calls that talk to the GitHub cache, and nothing else. */
function assertTokenConfined(r, m, token) {
  assert.equal(r.step("probe").outputs.seen, "none|none|none", "a later step saw the token");
  assert.ok(!JSON.stringify(r.env).includes(token), "the token is in the job env ($GITHUB_ENV)");
  assert.ok(r.masks.includes(token), "the token was not masked");
  assert.ok(!logWithoutMaskCommands(r.log).includes(token), "the token appears in the job log");
  assert.ok(!r.summary.includes(token), "the token appears in the step summary");
  const needle = Buffer.from(token);
  for (const f of [r.temp, m.dir].flatMap(allFiles)) assert.ok(!fs.readFileSync(f).includes(needle), `the token was written to ${f}`);
  for (const c of r.calls) assert.equal(c.runtimeEnv, false, "a run: step had ACTIONS_RUNTIME_TOKEN");
  // the github-script step itself masks the token (core.setSecret), before the helper does
  for (const id of ["restore", "save"]) {
    const gh = r.step(id).children.find((c) => c.id === "github-cache");
    assert.ok(gh.log.includes(`::add-mask::${token}`), `the github-script step of ${id} did not mask the token:\n${gh.log}`);
  }
}

describe("GitHub cache through the actions (actions/github-script hands over the runtime token)", () => {
  it("fallback on, S3 down: the step runs, only the helper gets the token; save and restore go to the GitHub cache", async () => {
    const store = makeStore("local", "gh-fallback");
    const m = new Machine(GO.fixture, store);
    const token = runtime().token;
    const r = await m.job(withProbe(jobSteps(GO, store, { restoreWith: { ...S3_DOWN, "use-fallback": "true" } })), { runtime: runtime() });
    ok(r);
    const restore = r.step("restore");
    assert.equal(restore.steps["github-cache"].outcome, "success", restore.log);
    assert.equal(restore.outputs["cache-hit"], "false");
    assert.match(restore.log, /S3 failed: .*Restoring from the GitHub cache instead/);
    const save = r.step("save");
    assert.equal(save.steps.plan.outputs["github-needed"], "true", save.log);
    assert.equal(save.steps["github-cache"].outcome, "success");
    assert.equal(save.outputs["cache-saved"], "true", save.log);
    assert.match(save.log, /Saved to the GitHub cache \(fallback: S3 failed\)/);

    const byArgs = (a) => r.calls.filter((c) => c.args === a);
    assert.equal(byArgs("restore")[0].githubTokenSha, sha256hex(token));
    assert.equal(byArgs("restore")[0].githubResultsUrl, runtime().resultsUrl);
    assert.equal(byArgs("save")[0].githubTokenSha, sha256hex(token));
    assert.equal(byArgs("save --check-github")[0].githubTokenSha, "", "the plan step got the token");
    assertTokenConfined(r, m, token);
    const snap = snapshots(GO.roots(m));

    // A fresh machine, S3 still down: restored from the GitHub cache, and the output says so.
    m.fresh();
    const r2 = await m.job(withProbe(jobSteps(GO, store, { restoreWith: { ...S3_DOWN, "use-fallback": "true" } })), { runtime: runtime() });
    ok(r2);
    assert.equal(r2.step("restore").outputs["cache-hit"], "true", r2.step("restore").log);
    assert.equal(r2.step("restore").outputs["cache-backend"], "github (fallback: S3 failed)");
    assert.deepEqual(snapshots(GO.roots(m)), snap);
    assert.match(r2.summary, /fallback: S3 failed/);
    // the hit came from the fallback, not from S3: the save tries S3 again, then finds the entry in GitHub
    assert.equal(r2.step("save").outputs["cache-saved"], "false");
    assert.match(r2.step("save").log, /already exists/);
    assertTokenConfined(r2, m, token);
  });

  it("fallback off: the github-script step does not run, in the restore or the save action", async () => {
    const store = makeStore("local", "gh-off");
    const m = new Machine(GO.fixture, store);
    const r = await m.job(withProbe(jobSteps(GO, store, { restoreWith: { ...S3_DOWN, "use-fallback": "false" } })), { runtime: runtime() });
    // S3 is down and there is no fallback: the restore fails (exit 1), as it should
    assert.equal(r.step("restore").outcome, "failure");
    assert.equal(r.step("restore").steps["github-cache"].outcome, "skipped");
    const save = r.step("save");
    assert.equal(save.steps.plan.outputs["github-needed"], "false", save.log);
    assert.equal(save.steps["github-cache"].outcome, "skipped");
    for (const c of r.calls) assert.equal(c.githubTokenSha, "", `${c.args} got the runtime token`);

    // the local backend never needs it, whatever use-fallback says
    const local = await m.fresh().job(jobSteps(GO, store, { restoreWith: { "use-fallback": "true" } }), { runtime: runtime() });
    ok(local);
    assert.equal(local.step("restore").steps["github-cache"].outcome, "skipped");
    assert.equal(local.step("save").steps["github-cache"].outcome, "skipped");
    for (const c of local.calls) assert.equal(c.githubTokenSha, "");
  });

  it("backend: github (the generic action): save, then restore on a fresh machine", async () => {
    const store = makeStore("local", "gh-backend");
    const m = new Machine(GO.fixture, store);
    const key = `gh-e2e-${Date.now()}`;
    const steps = [
      { id: "restore", uses: `milaboratory/cachekit@${SHA}`, with: { path: "data", key, backend: "github" } },
      { id: "build", if: "steps.restore.outputs.cache-hit != 'true'", run: "mkdir -p data/sub && echo built >data/sub/out.txt && chmod 0444 data/sub/out.txt" },
      { id: "save", uses: uses("save"), if: "always()" },
    ];
    const r = await m.job(steps, { runtime: runtime() });
    ok(r);
    assert.equal(r.step("restore").steps["github-cache"].outcome, "success");
    assert.equal(r.step("save").outputs["cache-saved"], "true", r.step("save").log);
    m.fresh();
    const r2 = await m.job(steps, { runtime: runtime() });
    ok(r2);
    assert.equal(r2.step("restore").outputs["cache-hit"], "true", r2.step("restore").log);
    assert.equal(r2.step("restore").outputs["cache-backend"], "github");
    assert.equal(fs.readFileSync(path.join(m.workspace, "data/sub/out.txt"), "utf8"), "built\n");
    assert.equal(r2.step("build").outcome, "skipped");
    assert.equal(r2.step("save").outputs["cache-saved"], "false");
    assert.match(r2.step("save").log, /restored exactly/);
  });
});
