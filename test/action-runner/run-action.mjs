// Public entry point of the action harness. See README.md.
//   import { runJob, runAction } from "<repo>/test/action-runner/run-action.mjs";
// CLI: node run-action.mjs WORKSPACE USES [input=value ...]   (prints the result as JSON)
import { fileURLToPath } from "node:url";
import { runJob, runAction, loadAction, parseUses, removeTree, githubScriptStub } from "./lib/runner.mjs";

export { runJob, runAction, loadAction, parseUses, removeTree, githubScriptStub };
export { evalExpr, evalStr, ifCondition, splitTemplate, scalarToString } from "./lib/expressions.mjs";
export { hashFiles } from "./lib/hashfiles.mjs";
export { parseEnvFile, parseWorkflowCommands } from "./lib/file-commands.mjs";

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [workspace, uses, ...kv] = process.argv.slice(2);
  if (!workspace || !uses) {
    console.error("usage: node run-action.mjs WORKSPACE USES [input=value ...]");
    process.exit(2);
  }
  const w = Object.fromEntries(kv.map((s) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)]));
  const r = await runAction({ workspace, uses, with: w });
  const { job, cleanup, ...rest } = r;
  process.stderr.write(r.log);
  console.log(JSON.stringify({ outcome: rest.outcome, outputs: rest.outputs, steps: rest.steps, env: rest.env, path: rest.path, post: rest.post.map((p) => ({ uses: p.uses, outcome: p.outcome })) }, null, 2));
  process.exit(r.outcome === "success" ? 0 : 1);
}
