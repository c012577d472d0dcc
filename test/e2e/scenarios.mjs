// The scenario suite every language wrapper must pass (issue 4, item 6), run through the action
// harness exactly as a consumer's workflow would use the actions:
//
//   - uses: milaboratory/cachekit/actions/<lang>/...@<sha>        (restore)
//   - run: <build>                                                 (fills the cached dirs)
//   - uses: milaboratory/cachekit/actions/<lang>/.../save@<sha>    (if: always())
//
// Each scenario runs for every backend in BACKENDS (lib.mjs): local always, s3 when configured.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  BACKENDS,
  Machine,
  RUNNER_ARCH,
  RUNNER_OS,
  allFiles,
  backendInputs,
  expectedHashFiles,
  logWithoutMaskCommands,
  makeStore,
  saveInputs,
  snapshots,
  storeKeys,
  uses,
} from "./lib.mjs";

/** Steps of the usual job: restore → build (only on a miss) → save with `if: always()`. */
export function jobSteps(L, store, { gen = "1", restoreWith = {}, saveIf = "always()", buildFails = false, buildIf, extraBuild = "" } = {}) {
  return [
    { id: "restore", uses: uses(L.action), with: { ...backendInputs(store), ...restoreWith } },
    {
      id: "build",
      name: "build",
      if: buildIf ?? "steps.restore.outputs.cache-hit != 'true'",
      env: { GEN: gen },
      run: L.build + extraBuild + (buildFails ? '\necho "error: build failed (on purpose)" >&2\nexit 3\n' : ""),
    },
    { id: "save", uses: uses(`${L.action}/save`), if: saveIf, with: saveInputs() },
  ];
}

/** The secret-key never shows up in the log, the step summary, RUNNER_TEMP, the store or the machine. */
export function assertNoLeak(r, m) {
  const secret = m.store.secrets.S3_SECRET_KEY;
  if (!secret) return;
  assert.ok(!logWithoutMaskCommands(r.log).includes(secret), "the secret-key appears in the job log");
  assert.ok(!r.summary.includes(secret), "the secret-key appears in the step summary");
  const needle = Buffer.from(secret);
  const dirs = [r.temp, m.dir, m.store.localDir].filter(Boolean);
  for (const f of dirs.flatMap(allFiles)) {
    assert.ok(!fs.readFileSync(f).includes(needle), `the secret-key was written to ${f}`);
  }
  // ...and the check means something: the secret did reach the helper.
  const restores = r.calls.filter((c) => c.command === "restore");
  for (const c of restores) assert.ok(c.secretGiven, "the restore step did not pass the secret-key to the helper");
}

/** Runs a job on machine m and checks for leaks. */
export async function run(m, steps, opts) {
  const r = await m.job(steps, opts);
  assertNoLeak(r, m);
  return r;
}

export const ok = (r) => assert.equal(r.outcome, "success", `job failed:\n${r.log}`);
const notSavingLines = (log) => log.split("\n").filter((l) => /Not saving/.test(l));

/** Every entry of `before` (dirs: mode; files: mode, size, content, mtime) is unchanged in `after`. */
export function assertContains(after, before, what) {
  for (const [root, files] of Object.entries(before)) {
    for (const [rel, desc] of Object.entries(files)) assert.equal(after[root]?.[rel], desc, `${what}: ${root}/${rel}`);
  }
}

export function defineScenarios(L) {
  for (const B of BACKENDS) {
    describe(`${L.name} [${B.name}]`, { skip: B.skip }, () => {
      describe("lifecycle: miss → save, exact hit → no save, lockfile change → restore-key hit → save new key", () => {
        const store = makeStore(B.name, `${L.name}-life`);
        const m = new Machine(L.fixture, store);
        const s = {};

        it("job 1: the key is the sibling's byte for byte; a miss; build; save stores it", async () => {
          assert.equal(RUNNER_OS, "Linux");
          const hash = expectedHashFiles(m.workspace, L.lockfiles);
          assert.match(hash, /^[0-9a-f]{64}$/);
          if (L.lockfiles.length > 1) {
            // the order is part of the hash: a sorted-by-path or files-first walk would differ
            assert.notEqual(expectedHashFiles(m.workspace, [...L.lockfiles].reverse()), hash);
          }
          s.key = `${L.prefix()}${hash}`;
          assert.equal(L.prefix(), `${RUNNER_OS}-${RUNNER_ARCH}-cache-${L.name}-v1-${L.name === "pnpm" ? "genericnodejs-" : ""}`);

          const r = await run(m, jobSteps(L, store));
          ok(r);
          const restore = r.step("restore");
          assert.equal(restore.outputs["cache-primary-key"], s.key);
          assert.equal(restore.outputs["cache-hit"], "false");
          assert.equal(restore.outputs["cache-matched-key"], "");
          // what the action handed the helper, byte for byte
          const call = r.calls.find((c) => c.command === "restore");
          assert.equal(call.key, s.key);
          assert.equal(call.restoreKeys, L.prefix());
          assert.deepEqual(call.path.split("\n").filter(Boolean), L.paths(m));
          assert.equal(call.stateId, L.stateId);
          assert.equal(call.backend, B.name);

          assert.equal(r.step("build").outcome, "success");
          assert.equal(r.step("save").outputs["cache-saved"], "true", r.step("save").log);
          assert.deepEqual(storeKeys(store), [s.key]);
          s.snap1 = snapshots(L.roots(m));
          const files = Object.values(s.snap1).flatMap((t) => Object.values(t)).filter((d) => d.startsWith("file "));
          assert.ok(files.length >= 8, `the build made too few files: ${JSON.stringify(s.snap1, null, 1)}`);
        });

        it("job 2 (fresh machine): exact hit, files back with modes and mtimes, save does nothing and says why", async () => {
          assert.ok(s.key, "job 1 did not run");
          m.fresh();
          const r = await run(m, jobSteps(L, store));
          ok(r);
          const restore = r.step("restore");
          assert.equal(restore.outputs["cache-hit"], "true", restore.log);
          assert.equal(restore.outputs["cache-matched-key"], s.key);
          assert.equal(restore.outputs["cache-primary-key"], s.key);
          assert.equal(r.step("build").outcome, "skipped");
          assert.deepEqual(snapshots(L.roots(m)), s.snap1);
          for (const p of L.uncached(m)) assert.ok(!fs.existsSync(p), `${p} is not a cached path but exists after restore`);

          const save = r.step("save");
          assert.equal(save.outcome, "success");
          assert.equal(save.outputs["cache-saved"], "false");
          const why = notSavingLines(save.log);
          assert.equal(why.length, 1, save.log);
          assert.match(why[0], /restored exactly/);
          assert.ok(why[0].includes(s.key), why[0]);
          assert.deepEqual(storeKeys(store), [s.key]);
        });

        it("job 3 (fresh machine, lockfile changed): restore-key hit on the old key, save stores the new key", async () => {
          assert.ok(s.key, "job 1 did not run");
          m.fresh();
          L.changeLockfile(m.workspace);
          s.newKey = `${L.prefix()}${expectedHashFiles(m.workspace, L.lockfiles)}`;
          assert.notEqual(s.newKey, s.key);
          const r = await run(m, jobSteps(L, store, { gen: "2" }));
          ok(r);
          const restore = r.step("restore");
          assert.equal(restore.outputs["cache-primary-key"], s.newKey);
          assert.equal(restore.outputs["cache-hit"], "false");
          assert.equal(restore.outputs["cache-matched-key"], s.key);
          assert.equal(r.step("build").outcome, "success");
          s.snap3 = snapshots(L.roots(m));
          assertContains(s.snap3, s.snap1, "restored from the old key");
          assert.equal(r.step("save").outputs["cache-saved"], "true", r.step("save").log);
          assert.deepEqual(storeKeys(store).sort(), [s.key, s.newKey].sort());
        });

        it("job 4 (fresh machine, lockfile changed): exact hit on the new key with both generations", async () => {
          assert.ok(s.newKey, "job 3 did not run");
          m.fresh();
          L.changeLockfile(m.workspace);
          const r = await run(m, jobSteps(L, store, { gen: "2" }));
          ok(r);
          assert.equal(r.step("restore").outputs["cache-hit"], "true");
          assert.equal(r.step("restore").outputs["cache-matched-key"], s.newKey);
          assert.deepEqual(snapshots(L.roots(m)), s.snap3);
          assert.equal(r.step("save").outputs["cache-saved"], "false");
        });
      });

      it("a failing build: the save step with if: always() still runs and saves", async () => {
        const store = makeStore(B.name, `${L.name}-fail-always`);
        const m = new Machine(L.fixture, store);
        const r = await run(m, jobSteps(L, store, { buildFails: true }));
        assert.equal(r.outcome, "failure");
        assert.equal(r.step("build").outcome, "failure");
        const save = r.step("save");
        assert.equal(save.outcome, "success", save.log);
        assert.equal(save.outputs["cache-saved"], "true", save.log);
        const key = r.step("restore").outputs["cache-primary-key"];
        assert.deepEqual(storeKeys(store), [key]);
        const snap = snapshots(L.roots(m));

        m.fresh();
        const r2 = await run(m, jobSteps(L, store));
        ok(r2);
        assert.equal(r2.step("restore").outputs["cache-hit"], "true");
        assert.deepEqual(snapshots(L.roots(m)), snap);
      });

      it("a failing build: the save step with if: success() is skipped, nothing stored", async () => {
        const store = makeStore(B.name, `${L.name}-fail-success`);
        const m = new Machine(L.fixture, store);
        const r = await run(m, jobSteps(L, store, { buildFails: true, saveIf: "success()" }));
        assert.equal(r.outcome, "failure");
        assert.equal(r.step("build").outcome, "failure");
        assert.equal(r.step("save").outcome, "skipped");
        assert.deepEqual(storeKeys(store), []);
      });

      it("cache-policy: read-only restores (restore-key hit) but the save is skipped and says why", async () => {
        const store = makeStore(B.name, `${L.name}-ro`);
        const seed = new Machine(L.fixture, store);
        const r1 = await run(seed, jobSteps(L, store));
        ok(r1);
        const oldKey = r1.step("restore").outputs["cache-primary-key"];
        const snap1 = snapshots(L.roots(seed));

        // Same HOME path (a fresh machine of the same image): pnpm's store path is absolute and
        // part of the cache version, as with actions/cache.
        const m = seed.fresh();
        L.changeLockfile(m.workspace);
        const r = await run(m, jobSteps(L, store, { gen: "2", restoreWith: { "cache-policy": "read-only" } }));
        ok(r);
        assert.equal(r.step("restore").outputs["cache-hit"], "false");
        assert.equal(r.step("restore").outputs["cache-matched-key"], oldKey);
        assertContains(snapshots(L.roots(m)), snap1, "read-only restore");
        const save = r.step("save");
        assert.equal(save.outputs["cache-saved"], "false");
        const why = notSavingLines(save.log);
        assert.equal(why.length, 1, save.log);
        assert.match(why[0], /cache-policy is read-only/);
        assert.deepEqual(storeKeys(store), [oldKey]);
      });

      it("the action used twice in one job (two cache-versions): one save step saves both, a second does nothing", async () => {
        const store = makeStore(B.name, `${L.name}-twice`);
        const m = new Machine(L.fixture, store);
        const hash = expectedHashFiles(m.workspace, L.lockfiles);
        const k1 = `${L.prefix("v1")}${hash}`;
        const k2 = `${L.prefix("v2")}${hash}`;
        const r = await run(m, [
          { id: "r1", uses: uses(L.action), with: { ...backendInputs(store), "cache-version": "v1" } },
          { id: "r2", uses: uses(L.action), with: { ...backendInputs(store), "cache-version": "v2" } },
          { id: "build", run: L.build, env: { GEN: "1" } },
          { id: "s1", uses: uses(`${L.action}/save`), if: "always()", with: saveInputs() },
          { id: "s2", uses: uses(`${L.action}/save`), if: "always()", with: saveInputs() },
        ]);
        ok(r);
        assert.equal(r.step("r1").outputs["cache-primary-key"], k1);
        assert.equal(r.step("r2").outputs["cache-primary-key"], k2);
        assert.deepEqual(
          r.calls.filter((c) => c.command === "restore").map((c) => c.restoreKeys),
          [L.prefix("v1"), L.prefix("v2")],
        );
        // two states under $RUNNER_TEMP/cachekit-state/<state-id>/ ...
        const stateDir = path.join(r.temp, "cachekit-state", L.stateId);
        const states = fs.readdirSync(stateDir).sort();
        assert.equal(states.length, 2, `state files: ${states}`);
        // ... both consumed by the first save step
        const s1 = r.step("s1");
        assert.equal(s1.outputs["cache-saved"], "true", s1.log);
        assert.ok(s1.log.includes(`Saved ${k1} `), s1.log);
        assert.ok(s1.log.includes(`Saved ${k2} `), s1.log);
        assert.ok(states.every((f) => f.endsWith(".json.saved")), `states not marked saved: ${states}`);
        assert.deepEqual(storeKeys(store).sort(), [k1, k2].sort());
        // the second save has nothing left to do, and says so
        const s2 = r.step("s2");
        assert.equal(s2.outcome, "success");
        assert.equal(s2.outputs["cache-saved"], "false");
        const why = notSavingLines(s2.log);
        assert.equal(why.length, 1, s2.log);
        assert.match(why[0], /no state from a restore step/);
      });

      it("missing credentials (use-fallback off): the restore fails with an error naming the input", async () => {
        // Independent of a live server: the helper must refuse before any request.
        const store = makeStore(B.name, `${L.name}-nocreds`);
        const m = new Machine(L.fixture, store);
        const r = await m.job([
          {
            id: "restore",
            uses: uses(L.action),
            with: {
              backend: "s3",
              endpoint: "127.0.0.1:9",
              bucket: "ci-actions-cache",
              "use-fallback": "false",
              "access-key": "${{ secrets.NOT_SET }}",
              "secret-key": "${{ secrets.NOT_SET_EITHER }}",
            },
          },
          { id: "save", uses: uses(`${L.action}/save`), if: "always()", with: { "access-key": "${{ secrets.NOT_SET }}", "secret-key": "${{ secrets.NOT_SET_EITHER }}" } },
        ]);
        assert.equal(r.outcome, "failure");
        const restore = r.step("restore");
        assert.equal(restore.outcome, "failure");
        const errors = r.annotations.filter((a) => a.level === "error").map((a) => a.message);
        assert.ok(errors.some((e) => /access-key/.test(e) && /secret-key/.test(e)), `no error naming the inputs:\n${restore.log}`);
        assert.equal(r.step("save").outputs["cache-saved"], "false", r.step("save").log);
        assert.equal(notSavingLines(r.step("save").log).length, 1, r.step("save").log);
      });

      it("missing credentials with use-fallback (the default; forks get no secrets): the GitHub cache, with a warning", async () => {
        // The harness's runtime results URL refuses connections: the GitHub cache is a miss
        // with a warning, the save a warning; the job does not fail.
        const store = makeStore(B.name, `${L.name}-nocreds-fallback`);
        const m = new Machine(L.fixture, store);
        const noCreds = { "access-key": "${{ secrets.NOT_SET }}", "secret-key": "${{ secrets.NOT_SET_EITHER }}" };
        const r = await m.job([
          { id: "restore", uses: uses(L.action), with: { backend: "s3", endpoint: "127.0.0.1:9", bucket: "ci-actions-cache", ...noCreds } },
          { id: "build", run: L.build, env: { GEN: "1" } },
          { id: "save", uses: uses(`${L.action}/save`), if: "always()", with: noCreds },
        ]);
        ok(r);
        assert.equal(r.step("restore").outputs["cache-hit"], "false");
        const warnings = r.annotations.filter((a) => a.level === "warning").map((a) => a.message);
        assert.ok(warnings.some((w) => /No S3 credentials/.test(w) && /GitHub cache/.test(w)), `no fallback warning:\n${r.step("restore").log}`);
        assert.equal(r.step("save").outputs["cache-saved"], "false", r.step("save").log);
        const calls = r.calls.filter((c) => !c.args.includes("--check-github"));
        assert.ok(calls.length >= 2 && calls.every((c) => c.githubTokenSha), "the helper steps did not get the runtime token");
      });
    });
  }
}
