// End-to-end scenarios of the golang wrapper (see scenarios.mjs), plus what only Go has:
// the hashfiles-path input, build-cache trimming before the save, and restoring over an
// existing read-only module cache.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { BACKENDS, Machine, backendInputs, expectedHashFiles, makeStore, saveInputs, snapshots, uses } from "./lib.mjs";
import { GO } from "./langs.mjs";
import { assertContains, defineScenarios, jobSteps, ok, run } from "./scenarios.mjs";

defineScenarios(GO);

// Build-cache entries with chosen ages: 10 days (trimmed at the default 5), 3 days (kept).
const OLD = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const RECENT = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const AGED_ENTRIES = String.raw`
gb="$HOME/.cache/go-build"
mkdir -p "$gb/01" "$gb/fe"
for s in a d; do
  printf 'old entry\n' >"$gb/01/${OLD}-$s"
  printf 'recent entry\n' >"$gb/fe/${RECENT}-$s"
done
touch -d '10 days ago' "$gb/01/${OLD}-a" "$gb/01/${OLD}-d" "$gb/README"
touch -d '3 days ago' "$gb/fe/${RECENT}-a" "$gb/fe/${RECENT}-d"
`
  .replaceAll("${OLD}", OLD)
  .replaceAll("${RECENT}", RECENT);

for (const B of BACKENDS) {
  describe(`go [${B.name}]: Go specifics`, { skip: B.skip }, () => {
    it("cache-dependency-hashfiles-path: the key hashes the matched files in the runner's order; no match → the bare prefix", async () => {
      const store = makeStore(B.name, "go-hashpath");
      const m = new Machine(GO.fixture, store);
      const r = await run(m, [
        { id: "sums", uses: uses(GO.action), with: { ...backendInputs(store), "cache-dependency-hashfiles-path": "**/go.sum" } },
        { id: "none", uses: uses(GO.action), with: { ...backendInputs(store), "cache-dependency-hashfiles-path": "**/no-such.sum", "cache-version": "v7" } },
      ]);
      ok(r);
      // depth first, each directory in byte order: app/ before app-tools/ (a plain sort of the
      // full paths would put app-tools/go.sum first, as '-' < '/')
      const order = ["app/go.sum", "app-tools/go.sum"];
      const hash = expectedHashFiles(m.workspace, order);
      assert.notEqual(hash, expectedHashFiles(m.workspace, [...order].reverse()));
      assert.equal(r.step("sums").outputs["cache-primary-key"], `${GO.prefix()}${hash}`);
      assert.equal(r.step("none").outputs["cache-primary-key"], GO.prefix("v7"));
      assert.deepEqual(r.calls.map((c) => [c.key, c.restoreKeys]), [
        [`${GO.prefix()}${hash}`, GO.prefix()],
        [GO.prefix("v7"), GO.prefix("v7")],
      ]);
    });

    it("save trims build-cache entries older than go-build-trim-days (default 5); 0 keeps them", async () => {
      const gb = (m) => path.join(m.home, ".cache/go-build");
      const exists = (m, rel) => fs.existsSync(path.join(gb(m), rel));

      // default: 5 days
      const store = makeStore(B.name, "go-trim");
      const m = new Machine(GO.fixture, store);
      const r = await run(m, jobSteps(GO, store, { extraBuild: AGED_ENTRIES }));
      ok(r);
      assert.equal(r.step("save").outputs["cache-saved"], "true");
      assert.match(r.step("save").log, /Go build cache trimmed/);
      // verify with a restore-only job: a save step would trim the restored cache again
      m.fresh();
      const r2 = await run(m, jobSteps(GO, store).slice(0, 1));
      ok(r2);
      assert.equal(r2.step("restore").outputs["cache-hit"], "true");
      assert.ok(!exists(m, `01/${OLD}-a`) && !exists(m, `01/${OLD}-d`), "entries unused for 10 days were saved");
      assert.ok(exists(m, `fe/${RECENT}-a`) && exists(m, `fe/${RECENT}-d`), "entries used 3 days ago were trimmed");
      assert.ok(exists(m, "README") && exists(m, "trim.txt"), "non-entry files must stay");
      // mtimes survive the round trip (Go's trimming relies on them)
      const age = (Date.now() - fs.statSync(path.join(gb(m), `fe/${RECENT}-a`)).mtimeMs) / 86400e3;
      assert.ok(age > 2.9 && age < 3.1, `restored mtime is ${age} days old`);

      // go-build-trim-days: 0 keeps everything
      const store0 = makeStore(B.name, "go-notrim");
      const m0 = new Machine(GO.fixture, store0);
      const steps = jobSteps(GO, store0, { extraBuild: AGED_ENTRIES });
      steps[2].with = { ...saveInputs(), "go-build-trim-days": "0" };
      const r3 = await run(m0, steps);
      ok(r3);
      assert.doesNotMatch(r3.step("save").log, /Go build cache trimmed/);
      m0.fresh();
      const r4 = await run(m0, jobSteps(GO, store0).slice(0, 1));
      ok(r4);
      assert.equal(r4.step("restore").outputs["cache-hit"], "true");
      assert.ok(exists(m0, `01/${OLD}-a`) && exists(m0, `fe/${RECENT}-d`));
    });

    it("a restore-key hit restores over an existing read-only module cache (same machine, lockfile changed)", async () => {
      const store = makeStore(B.name, "go-overwrite");
      const m = new Machine(GO.fixture, store);
      const r1 = await run(m, jobSteps(GO, store));
      ok(r1);
      const snap1 = snapshots(GO.roots(m));
      const mode = (p) => (fs.statSync(path.join(m.home, "go/pkg/mod", p)).mode & 0o777).toString(8);
      assert.equal(mode("github.com/acme/greet@v1.2.3"), "555");
      assert.equal(mode("github.com/acme/greet@v1.2.3/go.mod"), "444");
      // not fresh: the read-only tree from job 1 is still there (a persistent self-hosted runner)
      GO.changeLockfile(m.workspace);
      const r2 = await run(m, jobSteps(GO, store, { gen: "2" }));
      ok(r2);
      assert.equal(r2.step("restore").outputs["cache-hit"], "false");
      assert.equal(r2.step("restore").outputs["cache-matched-key"], r1.step("restore").outputs["cache-primary-key"]);
      assertContains(snapshots(GO.roots(m)), snap1, "restored over the existing tree");
      assert.equal(r2.step("save").outputs["cache-saved"], "true");
    });
  });
}
