// End-to-end scenarios of the pnpm wrapper (see scenarios.mjs), plus the store-path fallback.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { BACKENDS, Machine, makeStore, snapshots, tempDir } from "./lib.mjs";
import { PNPM } from "./langs.mjs";
import { defineScenarios, jobSteps, ok, run } from "./scenarios.mjs";

defineScenarios(PNPM);

for (const B of BACKENDS) {
  describe(`pnpm [${B.name}]: pnpm specifics`, { skip: B.skip }, () => {
    it("without a working pnpm the store path falls back to ~/.pnpm-store (listed twice, archived once)", async () => {
      const store = makeStore(B.name, "pnpm-nopnpm");
      const m = new Machine(PNPM.fixture, store);
      const bin = tempDir("no-pnpm");
      fs.writeFileSync(path.join(bin, "pnpm"), "#!/bin/sh\necho 'pnpm: command not found' >&2\nexit 127\n", { mode: 0o755 });
      const env = { PATH: `${bin}:${process.env.PATH}` };
      const build = 'set -e\nmkdir -p ~/.pnpm-store/v3/files/ab\nprintf x >~/.pnpm-store/v3/files/ab/cdef\nchmod 0444 ~/.pnpm-store/v3/files/ab/cdef\n';
      const steps = () => {
        const s = jobSteps(PNPM, store);
        s[1].run = build;
        return s;
      };
      const r = await run(m, steps(), { env });
      ok(r);
      const dot = path.join(m.home, ".pnpm-store");
      assert.deepEqual(r.calls[0].path.split("\n").filter(Boolean), [dot, "~/.pnpm-store"]);
      assert.equal(r.step("save").outputs["cache-saved"], "true", r.step("save").log);
      const snap = snapshots({ dot });

      m.fresh();
      const r2 = await run(m, steps(), { env });
      ok(r2);
      assert.equal(r2.step("restore").outputs["cache-hit"], "true");
      assert.deepEqual(snapshots({ dot }), snap);
    });
  });
}
