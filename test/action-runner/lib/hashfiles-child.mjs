// Child-process half of hashFiles(), the same design as the runner's
// (src/Runner.Worker/Expressions/HashFilesFunction.cs + src/Misc/expressionFunc/hashFiles):
// cwd = github.workspace, env `patterns` = the arguments joined by "\n",
// `followSymbolicLinks=true` only for the `--follow-symbolic-links` option; the result is
// printed to stderr as `__OUTPUT__<hex>__OUTPUT__`. Same glob library and versions
// (@actions/glob 0.7.0, minimatch 10.2.5) and the same digest: the raw 32-byte sha256 of each
// matched file, in the globber's order, fed into an outer sha256; "" when nothing matched.
import * as glob from "@actions/glob";
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { sep } from "node:path";
import { pipeline } from "node:stream/promises";

const followSymbolicLinks = process.env.followSymbolicLinks === "true";
const root = process.cwd();
const outer = createHash("sha256");
let count = 0;
try {
  const globber = await glob.create(process.env.patterns || "", { followSymbolicLinks });
  for await (const file of globber.globGenerator()) {
    if (!file.startsWith(root + sep)) continue; // outside GITHUB_WORKSPACE: ignored
    if (statSync(file).isDirectory()) continue; // statSync follows links; a broken link throws
    const h = createHash("sha256");
    await pipeline(createReadStream(file), h);
    outer.write(h.digest());
    count++;
  }
  outer.end();
  process.stderr.write(`__OUTPUT__${count ? outer.digest("hex") : ""}__OUTPUT__\n`);
} catch (e) {
  process.stderr.write(String((e && e.stack) || e) + "\n");
  process.exit(1);
}
