// Offline stand-in for actions/github-script's main (src/main.ts): same inputs, same function
// arguments, same result encoding, real @actions/core; the Octokit client is replaced by an
// object that throws, since the harness has no network.
import * as core from "@actions/core";
import * as exec from "@actions/exec";
import * as glob from "@actions/glob";
import * as io from "@actions/io";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

function buildContext() {
  const env = process.env;
  let payload = {};
  if (env.GITHUB_EVENT_PATH && fs.existsSync(env.GITHUB_EVENT_PATH)) {
    try {
      payload = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, "utf8"));
    } catch {
      payload = {};
    }
  }
  const ctx = {
    payload,
    eventName: env.GITHUB_EVENT_NAME,
    sha: env.GITHUB_SHA,
    ref: env.GITHUB_REF,
    workflow: env.GITHUB_WORKFLOW,
    action: env.GITHUB_ACTION,
    actor: env.GITHUB_ACTOR,
    job: env.GITHUB_JOB,
    runAttempt: parseInt(env.GITHUB_RUN_ATTEMPT, 10),
    runNumber: parseInt(env.GITHUB_RUN_NUMBER, 10),
    runId: parseInt(env.GITHUB_RUN_ID, 10),
    apiUrl: env.GITHUB_API_URL ?? "https://api.github.com",
    serverUrl: env.GITHUB_SERVER_URL ?? "https://github.com",
    graphqlUrl: env.GITHUB_GRAPHQL_URL ?? "https://api.github.com/graphql",
  };
  Object.defineProperty(ctx, "repo", {
    enumerable: true,
    get() {
      if (env.GITHUB_REPOSITORY) {
        const [owner, repo] = env.GITHUB_REPOSITORY.split("/");
        return { owner, repo };
      }
      if (payload.repository) return { owner: payload.repository.owner.login, repo: payload.repository.name };
      throw new Error("context.repo requires a GITHUB_REPOSITORY environment variable like 'owner/repo'");
    },
  });
  Object.defineProperty(ctx, "issue", {
    enumerable: true,
    get() {
      return { ...ctx.repo, number: (payload.issue || payload.pull_request || payload).number };
    },
  });
  return ctx;
}

const offline = new Proxy(
  {},
  {
    get(_, prop) {
      if (typeof prop === "symbol" || prop === "then") return undefined;
      throw new Error(`github.${String(prop)}: the GitHub API client is not available in the offline action harness`);
    },
  },
);

const nodeRequire = createRequire(path.join(process.cwd(), "index.js"));
const wrapRequire = new Proxy(nodeRequire, {
  apply(target, thisArg, [moduleID]) {
    if (moduleID.startsWith(".")) return target.apply(thisArg, [path.resolve(moduleID)]);
    try {
      return target.apply(thisArg, [moduleID]);
    } catch {
      const p = nodeRequire.resolve(moduleID, { paths: [process.cwd(), path.join(process.cwd(), "node_modules")] });
      return target.apply(thisArg, [p]);
    }
  },
});

async function main() {
  core.getInput("github-token", { required: true });
  core.getBooleanInput("debug");
  const script = core.getInput("script", { required: true });
  const AsyncFunction = Object.getPrototypeOf(async () => null).constructor;
  const args = { require: wrapRequire, __original_require__: nodeRequire, github: offline, octokit: offline, context: buildContext(), core, exec, glob, io };
  const result = await new AsyncFunction(...Object.keys(args), script)(...Object.values(args));
  const encoding = core.getInput("result-encoding") || "json";
  let output;
  if (encoding === "json") output = JSON.stringify(result);
  else if (encoding === "string") output = String(result);
  else throw new Error('"result-encoding" must be either "string" or "json"');
  core.setOutput("result", output);
}

function handleError(err) {
  console.error(err);
  core.setFailed(`Unhandled error: ${err}`);
}
process.on("unhandledRejection", handleError);
main().catch(handleError);
