// hashFiles() as the runner evaluates it (HashFilesFunction.cs): a child node process running
// ./hashfiles-child.mjs with cwd = the workspace, a 120 s limit, the result read from stderr.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "hashfiles-child.mjs");

/**
 * hashFiles(workspace, patterns[, {env}]) → 64 hex chars, or "" when no file matched.
 * A first pattern `--follow-symbolic-links` (any case) makes the glob follow symlinks; any other
 * first argument starting with `--` is an error, as in the runner.
 * Throws `hashFiles('…') failed. Fail to hash files under directory '…'` when the child fails
 * (e.g. a matched broken symlink).
 */
export function hashFiles(workspace, patterns, { env = process.env } = {}) {
  let args = [...patterns];
  let follow = false;
  if (args[0]?.startsWith("--")) {
    if (args[0].toLowerCase() !== "--follow-symbolic-links")
      throw new Error(`Invalid glob option ${args[0]}, avaliable option: '--follow-symbolic-links'.`);
    follow = true;
    args = args.slice(1);
  }
  const childEnv = { ...env, patterns: args.join("\n") };
  if (follow) childEnv.followSymbolicLinks = "true";
  else delete childEnv.followSymbolicLinks;
  const p = spawnSync(process.execPath, [CHILD], {
    cwd: workspace,
    env: childEnv,
    encoding: "utf8",
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const m = /^__OUTPUT__(.*)__OUTPUT__$/m.exec(p.stderr || "");
  if (p.status !== 0 || !m) {
    const err = new Error(`hashFiles('${args.join(", ")}') failed. Fail to hash files under directory '${workspace}'`);
    err.detail = (p.stderr || "") + (p.error ? String(p.error) : "");
    throw err;
  }
  return m[1];
}
