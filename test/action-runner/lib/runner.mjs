// Runs action.yml files and lists of job steps on this machine the way actions/runner 2.33x does
// (StepsRunner.cs, ActionRunner.cs, CompositeActionHandler.cs, ScriptHandler.cs,
// NodeScriptActionHandler.cs, FileCommandManager.cs). See ../README.md for the API and for the
// runner behaviours mirrored; /work/shared/research/runner.md has the sources.
import "./json-hook.mjs";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { evalExpr, evalStr, evalMap, evalBool, ifCondition, truthy, scalarToString } from "./expressions.mjs";
import { hashFiles } from "./hashfiles.mjs";
import { parseEnvFile, formatEnvFile, parseWorkflowCommands } from "./file-commands.mjs";

const { parseWorkflow, NoOperationTraceWriter } = await import("@actions/workflow-parser");
const { parseAction } = await import("@actions/workflow-parser/actions/index");

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Directory of the bundled actions/github-script stand-in (see stubs/github-script). */
export const githubScriptStub = path.join(HERE, "..", "stubs", "github-script");

const MAX_DEPTH = 9; // src/Runner.Common/Constants.cs CompositeActionsMaxDepth
// GitHubContext._contextEnvAllowlist: github.<key> exported to processes as GITHUB_<KEY>.
const GITHUB_ENV_KEYS = new Set(
  ("action_path action_ref action_repository action actor actor_id api_url base_ref env event_name event_path " +
    "graphql_url head_ref job output path ref_name ref_protected ref_type ref repository repository_id " +
    "repository_owner repository_owner_id retention_days run_attempt run_id run_number server_url sha state " +
    "step_summary triggering_actor workflow workflow_ref workflow_sha workspace").split(" "),
);
// ScriptHandlerHelpers: built-in shells and script file extensions.
const SHELL_FORMATS = {
  bash: "--noprofile --norc -e -o pipefail {0}",
  sh: "-e {0}",
  python: "{0}",
  pwsh: "-command \". '{0}'\"",
  powershell: "-command \". '{0}'\"",
  cmd: '/D /E:ON /V:OFF /S /C "CALL "{0}""',
};
const SHELL_EXT = { bash: ".sh", sh: ".sh", python: ".py", pwsh: ".ps1", powershell: ".ps1", cmd: ".cmd" };
// Variables of the harness's own process that are NOT passed to steps by default: they would
// leak the outer CI/test environment or move tool caches away from the fake HOME.
const DROP_PREFIXES = ["GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "STATE_", "CACHEKIT_", "AWS_", "XDG_", "npm_", "NODE_TEST_"];
const DROP_NAMES = new Set(["NODE_OPTIONS", "GOPATH", "GOCACHE", "GOMODCACHE", "GOENV", "CARGO_HOME", "PNPM_HOME", "CI", "HOME"]);

const createdRoots = new Set();
let exitHookInstalled = false;

// ---------------------------------------------------------------------------------------------
// action.yml loading
// ---------------------------------------------------------------------------------------------

/** Parses a `uses:` value like PipelineTemplateConverter.ConvertToStep. */
export function parseUses(uses) {
  if (typeof uses !== "string" || !uses) throw new Error("'uses' must be a non-empty string");
  if (uses.startsWith("docker://")) return { kind: "docker", image: uses.slice(9), uses };
  if (uses.startsWith("./") || uses.startsWith(".\\")) return { kind: "local", path: uses, uses };
  const at = uses.split("@");
  const parts = at[0].split(/[/\\]/).filter(Boolean);
  const ref = at.length === 2 ? at[1] : "";
  if (at.length !== 2 || parts.length < 2 || !parts[0] || !parts[1] || !ref)
    throw new Error(`Expected format {org}/{repo}[/path]@ref. Actual '${uses}'`);
  return { kind: "remote", uses, owner: parts[0], repo: parts[1], name: `${parts[0]}/${parts[1]}`, path: parts.slice(2).join("/"), ref };
}

/**
 * Loads and validates an action directory (action.yml or action.yaml) against GitHub's action
 * schema (@actions/workflow-parser: properties and the contexts each field may use) and checks
 * every composite step's `uses:` format. Returns {dir, file, doc}. Throws on errors.
 */
export function loadAction(dir) {
  const file = ["action.yml", "action.yaml"].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file)
    throw new Error(
      `Can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '${dir}'. Did you forget to run actions/checkout before running your local action?`,
    );
  const content = fs.readFileSync(file, "utf8");
  const r = parseAction({ name: file, content }, new NoOperationTraceWriter());
  const errs = r.context.errors.getErrors();
  if (errs.length) throw new Error(errs.map((e) => e.message).join("\n"));
  const doc = YAML.parse(content);
  if (doc?.runs?.using === "composite") for (const s of doc.runs.steps ?? []) if (s.uses !== undefined) parseUses(s.uses);
  return { dir, file, doc };
}

// ---------------------------------------------------------------------------------------------
// the job
// ---------------------------------------------------------------------------------------------

function mkdirp(p) {
  fs.mkdirSync(p, { recursive: true });
  return p;
}

/** rm -rf that also copes with read-only trees (Go's module cache: 0444 files in 0555 dirs). */
export function removeTree(p) {
  if (!fs.existsSync(p)) return;
  try {
    fs.rmSync(p, { recursive: true, force: true });
    return;
  } catch {
    /* make writable and retry */
  }
  const walk = (d) => {
    let st;
    try {
      st = fs.lstatSync(d);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      try {
        fs.chmodSync(d, 0o700);
      } catch {
        /* ignore */
      }
      for (const e of fs.readdirSync(d)) walk(path.join(d, e));
    }
  };
  walk(p);
  fs.rmSync(p, { recursive: true, force: true });
}

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    if (process.env.ACTION_RUNNER_KEEP_TEMP) return;
    for (const r of createdRoots) {
      try {
        removeTree(r);
      } catch {
        /* best effort */
      }
    }
  });
}

function baseProcessEnv(inheritEnv) {
  if (inheritEnv === false) return { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" };
  if (typeof inheritEnv === "function")
    return Object.fromEntries(Object.entries(process.env).filter(([k, v]) => inheritEnv(k, v)));
  if (Array.isArray(inheritEnv))
    return Object.fromEntries(Object.entries(process.env).filter(([k]) => k === "PATH" || inheritEnv.includes(k)));
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !DROP_NAMES.has(k) && !DROP_PREFIXES.some((p) => k.startsWith(p))),
  );
}

function refInfo(ref) {
  const m = /^refs\/(heads|tags)\/(.*)$/.exec(ref);
  if (m) return { ref_name: m[2], ref_type: m[1] === "heads" ? "branch" : "tag" };
  const pr = /^refs\/pull\/(.*)$/.exec(ref);
  if (pr) return { ref_name: pr[1], ref_type: "branch" };
  return { ref_name: ref, ref_type: "branch" };
}

function createJob(opts) {
  const root = opts.tempRoot ? mkdirp(path.resolve(opts.tempRoot)) : fs.mkdtempSync(path.join(os.tmpdir(), "action-runner-"));
  if (!opts.tempRoot && !opts.keepTemp) {
    createdRoots.add(root);
    installExitHook();
  }
  const workspace = mkdirp(path.resolve(opts.workspace ?? path.join(root, "workspace")));
  const home = mkdirp(path.resolve(opts.home ?? path.join(root, "home")));
  const temp = mkdirp(path.resolve(opts.temp ?? path.join(root, "temp")));
  const toolCache = mkdirp(path.join(root, "tool_cache"));
  const eventPath = path.join(mkdirp(path.join(temp, "_github_workflow")), "event.json");
  const event = opts.event ?? {};
  fs.writeFileSync(eventPath, JSON.stringify(event, null, 2));

  const g = { ...(opts.github ?? {}) };
  const repository = g.repository ?? "local/repo";
  const ref = g.ref ?? "refs/heads/main";
  const sha = g.sha ?? "0123456789abcdef0123456789abcdef01234567";
  const token = g.token ?? "ghs_harnessFakeGithubToken0000000000000";
  const github = {
    action: "",
    action_path: "",
    action_ref: "",
    action_repository: "",
    actor: "local",
    actor_id: "1",
    api_url: "https://api.github.com",
    base_ref: "",
    event_name: "push",
    event_path: eventPath,
    graphql_url: "https://api.github.com/graphql",
    head_ref: "",
    job: "test",
    ref_protected: "false",
    repository_id: "1",
    repository_owner: repository.split("/")[0],
    repository_owner_id: "1",
    retention_days: "90",
    run_attempt: "1",
    run_id: "1",
    run_number: "1",
    secret_source: "Actions",
    server_url: "https://github.com",
    triggering_actor: "local",
    workflow: "harness",
    workflow_ref: `${repository}/.github/workflows/harness.yml@${ref}`,
    workflow_sha: sha,
    ...refInfo(ref),
    ...g,
    repository,
    ref,
    sha,
    token,
    workspace: g.workspace ?? workspace,
    event,
  };
  const runner = {
    os: { linux: "Linux", darwin: "macOS", win32: "Windows" }[process.platform] ?? process.platform,
    arch: { x64: "X64", arm64: "ARM64", ia32: "X86", arm: "ARM" }[process.arch] ?? process.arch,
    name: "harness",
    environment: "github-hosted",
    temp,
    tool_cache: toolCache,
    workspace: path.dirname(workspace),
    ...(opts.runner ?? {}),
  };
  const rt = opts.runtime === false ? null : { token: "harness-runtime-token", runtimeUrl: "http://127.0.0.1:9/runtime/", resultsUrl: "http://127.0.0.1:9/", cacheServiceV2: true, ...(opts.runtime ?? {}) };
  const runtimeEnv = {};
  if (rt) {
    runtimeEnv.ACTIONS_RUNTIME_URL = rt.runtimeUrl;
    runtimeEnv.ACTIONS_RUNTIME_TOKEN = rt.token;
    if (rt.cacheUrl) runtimeEnv.ACTIONS_CACHE_URL = rt.cacheUrl;
    if (rt.idTokenUrl) {
      runtimeEnv.ACTIONS_ID_TOKEN_REQUEST_URL = rt.idTokenUrl;
      runtimeEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN = rt.token;
    }
    if (rt.resultsUrl) runtimeEnv.ACTIONS_RESULTS_URL = rt.resultsUrl;
    if (rt.cacheServiceV2) runtimeEnv.ACTIONS_CACHE_SERVICE_V2 = "True";
  }
  const remote = new Map([["actions/github-script", githubScriptStub]]);
  for (const [k, v] of Object.entries(opts.remoteActions ?? {})) remote.set(k.toLowerCase(), v);
  const secrets = { GITHUB_TOKEN: token, ...(opts.secrets ?? {}) };

  const job = {
    root,
    workspace,
    home,
    temp,
    github,
    runner,
    runtimeEnv,
    remote,
    secrets,
    vars: opts.vars ?? {},
    inputs: opts.inputs ?? {},
    matrix: opts.matrix ?? {},
    strategy: opts.strategy ?? {},
    defaults: opts.defaults ?? {},
    env: {}, // global env: job env + $GITHUB_ENV writes
    path: [], // $GITHUB_PATH entries, latest last
    post: [], // post steps of node actions, run LIFO at job end
    status: "success",
    log: [],
    summary: [],
    annotations: [],
    masks: new Set([token, rt?.token, ...Object.values(opts.secrets ?? {})].filter((x) => typeof x === "string" && x)),
    remoteCalls: [],
    pgids: new Set(),
    verbose: opts.verbose ?? !!process.env.ACTION_RUNNER_VERBOSE,
    baseEnv: {
      ...baseProcessEnv(opts.inheritEnv),
      HOME: home,
      CI: "true",
      GITHUB_ACTIONS: "true",
      RUNNER_TRACKING_ID: `github_${randomUUID()}`,
    },
    processTimeoutMs: opts.processTimeoutMs,
  };
  mkdirp(path.join(temp, "_runner_file_commands"));
  mkdirp(path.join(temp, "_harness_logs"));
  return job;
}

// ---------------------------------------------------------------------------------------------
// logging
// ---------------------------------------------------------------------------------------------

function newRecord(parent, index, step) {
  return {
    index,
    id: step.id !== undefined ? String(step.id) : undefined,
    name: step.name !== undefined ? String(step.name) : undefined,
    uses: step.uses,
    run: step.run,
    outcome: "success",
    conclusion: "success",
    outputs: {},
    log: "",
    summary: "",
    annotations: [],
    errors: [],
    parent,
  };
}

function appendLog(job, rec, text) {
  if (!text) return;
  for (let r = rec; r; r = r.parent) r.log += text;
  job.log.push(text);
  if (job.verbose) process.stderr.write(text);
}

function logError(job, rec, err) {
  const msg = typeof err === "string" ? err : err?.message ?? String(err);
  const detail = typeof err === "object" && err?.detail ? `\n${err.detail}` : "";
  if (rec) rec.errors.push(msg);
  appendLog(job, rec, `##[error]${msg}${detail}\n`);
}

function logWarning(job, rec, msg) {
  const a = { level: "warning", message: msg, properties: {} };
  job.annotations.push(a);
  if (rec) rec.annotations.push(a);
  appendLog(job, rec, `##[warning]${msg}\n`);
}

function displayName(step, c) {
  if (step.name !== undefined) {
    try {
      return evalStr(step.name, c);
    } catch {
      return String(step.name);
    }
  }
  if (step.run !== undefined) return `Run ${String(step.run).split("\n")[0]}`;
  return `Run ${step.uses}`;
}

// ---------------------------------------------------------------------------------------------
// processes
// ---------------------------------------------------------------------------------------------

const signalExit = (sig) => 128 + (os.constants.signals[sig] ?? 1);

function spawnLogged(job, rec, cmd, args, { cwd, env, signal }) {
  return new Promise((resolve) => {
    const logFile = path.join(job.temp, "_harness_logs", `${randomUUID()}.log`);
    const fd = fs.openSync(logFile, "w");
    let child;
    let done = false;
    let timer;
    let killTimer;
    const finish = (code, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener("abort", onAbort);
      let text = "";
      try {
        text = fs.readFileSync(logFile, "utf8");
        fs.unlinkSync(logFile);
      } catch {
        /* ignore */
      }
      appendLog(job, rec, text);
      if (error) logError(job, rec, `An error occurred trying to start process '${cmd}' with working directory '${cwd}'. ${error.message}`);
      resolve({ code, text });
    };
    const kill = () => {
      if (!child?.pid) return;
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {
        /* gone */
      }
      killTimer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }, 2500);
    };
    const onAbort = () => kill();
    try {
      child = spawn(cmd, args, { cwd, env, stdio: ["ignore", fd, fd], detached: true });
    } catch (e) {
      fs.closeSync(fd);
      finish(127, e);
      return;
    }
    fs.closeSync(fd);
    if (child.pid) job.pgids.add(child.pid);
    signal?.addEventListener("abort", onAbort);
    if (job.processTimeoutMs) timer = setTimeout(kill, job.processTimeoutMs);
    child.on("error", (e) => finish(127, e));
    child.on("close", (code, sig) => finish(code ?? signalExit(sig)));
  });
}

function processEnv(job, envCtx, github, extra = {}) {
  // Handler.cs / ScriptHandler.cs: the env context, then PATH prefixed with the $GITHUB_PATH
  // entries (latest first), then github.* (allowlist) as GITHUB_* and runner.* as RUNNER_*.
  const env = { ...job.baseEnv, ...envCtx, ...extra };
  if (job.path.length) env.PATH = [...job.path].reverse().join(path.delimiter) + (env.PATH ? path.delimiter + env.PATH : "");
  for (const [k, v] of Object.entries(github)) if (GITHUB_ENV_KEYS.has(k) && typeof v === "string") env[`GITHUB_${k.toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(job.runner)) if (typeof v === "string") env[`RUNNER_${k.toUpperCase()}`] = v;
  return env;
}

// ---------------------------------------------------------------------------------------------
// file commands
// ---------------------------------------------------------------------------------------------

const FILE_CMDS = { path: "add_path_", env: "set_env_", step_summary: "step_summary_", state: "save_state_", output: "set_output_" };

/** Gives `github` fresh file-command files, runs fn, then processes the files (FileCommandManager). */
async function withFileCommands(job, rec, github, fn) {
  const dir = path.join(job.temp, "_runner_file_commands");
  const sfx = randomUUID();
  const files = {};
  for (const [k, pre] of Object.entries(FILE_CMDS)) {
    files[k] = path.join(dir, pre + sfx);
    github[k] = files[k];
    fs.writeFileSync(files[k], "");
  }
  let outcome = "success";
  const outputs = {};
  const state = {};
  let text = "";
  try {
    const r = await fn();
    outcome = r.outcome;
    text = r.text ?? "";
  } catch (e) {
    logError(job, rec, e);
    outcome = "failure";
  }
  // `::` workflow commands in the step's output.
  for (const cmd of parseWorkflowCommands(text)) {
    if (cmd.command === "add-mask") {
      if (cmd.message) job.masks.add(cmd.message);
    } else if (["error", "warning", "notice"].includes(cmd.command)) {
      const a = { level: cmd.command, message: cmd.message, properties: cmd.properties };
      job.annotations.push(a);
      rec.annotations.push(a);
      if (cmd.command === "error") rec.errors.push(cmd.message);
    } else if (cmd.command === "set-output" && cmd.properties.name) {
      outputs[cmd.properties.name] = cmd.message;
      logWarning(job, rec, "The `set-output` command is deprecated and will be disabled soon. Please upgrade to using Environment Files.");
    } else if (cmd.command === "save-state" && cmd.properties.name) {
      state[cmd.properties.name] = cmd.message;
    } else if (cmd.command === "set-env" || cmd.command === "add-path") {
      logError(job, rec, `Unable to process command '::${cmd.command}' successfully. The \`${cmd.command}\` command is disabled.`);
      outcome = "failure";
    }
  }
  try {
    for (const line of fs.readFileSync(files.path, "utf8").split(/\r\n|\n|\r/)) {
      if (!line) continue;
      job.path = job.path.filter((x) => x !== line);
      job.path.push(line);
    }
    for (const [k, v] of parseEnvFile(fs.readFileSync(files.env, "utf8"))) {
      if (k.toUpperCase() === "NODE_OPTIONS") {
        logWarning(job, rec, "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.");
        continue;
      }
      job.env[k] = v;
    }
    const summary = fs.readFileSync(files.step_summary, "utf8");
    if (summary) {
      for (let r = rec; r; r = r.parent) r.summary += summary;
      job.summary.push(summary);
    }
    for (const [k, v] of parseEnvFile(fs.readFileSync(files.state, "utf8"))) state[k] = v;
    for (const [k, v] of parseEnvFile(fs.readFileSync(files.output, "utf8"))) outputs[k] = v;
  } catch (e) {
    logError(job, rec, `Unable to process file command: ${e.message}`);
    outcome = "failure";
  }
  for (const f of Object.values(files)) fs.rmSync(f, { force: true });
  return { outcome, outputs, state };
}

// ---------------------------------------------------------------------------------------------
// steps
// ---------------------------------------------------------------------------------------------

function makeCtx(scope, github, env) {
  const job = scope.job;
  const values = {
    github,
    runner: job.runner,
    job: { status: job.status, container: {}, services: {} },
    strategy: job.strategy,
    matrix: job.matrix,
    steps: scope.stepsCtx,
    inputs: scope.inputs,
    env,
  };
  if (scope.kind === "job") Object.assign(values, { secrets: job.secrets, vars: job.vars, needs: {} });
  return {
    values,
    status: () => (scope.kind === "composite" ? scope.status : job.status),
    hashFiles: (patterns) => hashFiles(github.workspace, patterns, { env: job.baseEnv }),
  };
}

function splitShell(s) {
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  return out;
}

async function runScript(scope, rec, step, c, envCtx) {
  const job = scope.job;
  const github = c.values.github;
  // ActionRunner clears these for script steps; env:/if: were evaluated before (runner#2473)
  github.action_repository = "";
  github.action_ref = "";
  return withFileCommands(job, rec, github, async () => {
    const script = evalStr(step.run, c) ?? "";
    let shell = evalStr(step.shell, c);
    let wd = evalStr(step["working-directory"], c);
    if (scope.kind === "job") {
      // job `defaults.run` apply to workflow steps only, never inside a composite (ScopeName set)
      if (!shell) shell = job.defaults?.run?.shell;
      if (wd === undefined) wd = job.defaults?.run?.["working-directory"];
    }
    let command;
    let argFormat;
    if (!shell) {
      // no shell: `bash -e {0}` when bash is on PATH, else `sh -e {0}` (ScriptHandler.cs)
      command = "bash";
      argFormat = SHELL_FORMATS.sh;
      const envPath = processEnv(job, envCtx, github).PATH ?? "";
      if (!envPath.split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, "bash")))) command = "sh";
      shell = "sh";
    } else {
      const sp = shell.indexOf(" ");
      command = sp < 0 ? shell : shell.slice(0, sp);
      argFormat = sp < 0 ? "" : shell.slice(sp + 1).trimStart();
      if (!argFormat) argFormat = SHELL_FORMATS[command] ?? "";
    }
    if (!argFormat || !argFormat.includes("{0}"))
      throw new Error("Invalid shell option. Shell must be a valid built-in (bash, sh, cmd, powershell, pwsh) or a format string containing '{0}'");
    const shellName = shell.split(" ")[0];
    const file = path.join(job.temp, randomUUID() + (SHELL_EXT[shellName] ?? ""));
    fs.writeFileSync(file, script); // UTF-8, no BOM
    const args = splitShell(argFormat).map((a) => a.replaceAll("{0}", file));
    const cwd = path.resolve(github.workspace, wd ?? ""); // Path.Combine(workspace, wd)
    const env = processEnv(job, envCtx, github);
    const { code, text } = await spawnLogged(job, rec, command, args, { cwd, env, signal: scope.signal });
    if (code !== 0) logError(job, rec, `Process completed with exit code ${code}.`);
    return { outcome: code === 0 ? "success" : "failure", text };
  });
}

function inputEnv(inputs) {
  // Handler.AddInputsToEnvironment: node and container actions only, never composites
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, "_").toUpperCase()}`, v]));
}

async function runNode(scope, rec, action, inputs, envCtx, github, stage, state = {}) {
  const job = scope.job;
  const extra = {
    ...inputEnv(inputs),
    ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])),
    ...job.runtimeEnv,
  };
  return withFileCommands(job, rec, github, async () => {
    const env = processEnv(job, envCtx, github, extra);
    delete env.NODE_ICU_DATA;
    const target = path.join(action.dir, action.doc.runs[stage]);
    const { code, text } = await spawnLogged(job, rec, process.execPath, [target], { cwd: github.workspace, env, signal: scope.signal });
    return { outcome: code === 0 ? "success" : "failure", text };
  });
}

async function runHandler(scope, rec, ref, handler, inputs, envCtx, github) {
  const job = scope.job;
  return withFileCommands(job, rec, github, async () => {
    const env = processEnv(job, envCtx, github, { ...inputEnv(inputs), ...job.runtimeEnv });
    let text = "";
    const log = (s) => {
      const line = String(s).endsWith("\n") ? String(s) : `${s}\n`;
      text += line;
      appendLog(job, rec, line);
    };
    const call = {
      uses: ref.uses,
      name: ref.name,
      owner: ref.owner,
      repo: ref.repo,
      path: ref.path,
      ref: ref.ref,
      inputs: { ...inputs },
      env,
      github: { ...github },
      runner: { ...job.runner },
      workspace: github.workspace,
      home: job.home,
      log,
    };
    job.remoteCalls.push(call);
    const res = (await handler(call)) ?? {};
    if (res.log) log(res.log);
    const str = (o) => Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, scalarToString(v)]));
    if (res.outputs) fs.appendFileSync(github.output, formatEnvFile(str(res.outputs)));
    if (res.env) fs.appendFileSync(github.env, formatEnvFile(str(res.env)));
    if (res.state) fs.appendFileSync(github.state, formatEnvFile(str(res.state)));
    if (res.path) fs.appendFileSync(github.path, [].concat(res.path).map((p) => `${p}\n`).join(""));
    if (res.summary) fs.appendFileSync(github.step_summary, String(res.summary));
    const failed = res.outcome === "failure" || res.failed === true;
    if (failed) logError(job, rec, res.error ?? `Remote action stub '${ref.uses}' reported failure.`);
    return { outcome: failed ? "failure" : "success", text };
  });
}

function resolveRemote(job, ref) {
  const lc = (s) => s.toLowerCase();
  const withPath = ref.path ? `${ref.name}/${ref.path}` : ref.name;
  const candidates = [
    [`${withPath}@${ref.ref}`, true],
    [withPath, true],
    ...(ref.path ? [[`${ref.name}@${ref.ref}`, false], [ref.name, false]] : []),
  ];
  for (const [key, exact] of candidates) {
    if (!job.remote.has(lc(key))) continue;
    const v = job.remote.get(lc(key));
    if (v === null || v === undefined || v === false) break;
    if (typeof v === "function") return { handler: v };
    if (typeof v === "object" && typeof v.handler === "function") return { handler: v.handler };
    const dir = typeof v === "string" ? v : v.dir;
    if (typeof dir !== "string") throw new Error(`remoteActions['${key}'] must be a function or a directory`);
    return { dir: exact || !ref.path ? dir : path.join(dir, ref.path) };
  }
  throw new Error(
    `Remote action '${ref.uses}' is not available offline: register a stand-in with runJob({remoteActions: {'${ref.name}': handlerOrDirectory}})`,
  );
}

/** ActionRunner: `with:` values first, then each declared input's evaluated default ("" if none). */
function resolveInputs(job, rec, action, withVals, c) {
  const inputs = { ...withVals };
  const given = new Set(Object.keys(inputs).map((k) => k.toLowerCase()));
  const declared = Object.entries(action.doc.inputs ?? {});
  for (const [id, def] of declared) {
    if (given.has(id.toLowerCase())) {
      if (def?.deprecationMessage) logWarning(job, rec, `Input '${id}' has been deprecated with message: ${def.deprecationMessage}`);
      continue;
    }
    inputs[id] = evalStr(def?.default, c) ?? "";
  }
  const valid = new Set(declared.map(([k]) => k.toLowerCase()));
  const unexpected = Object.keys(withVals).filter((k) => !valid.has(k.toLowerCase()));
  if (unexpected.length)
    logWarning(job, rec, `Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ['${declared.map(([k]) => k).join("', '")}']`);
  return inputs;
}

const selfPath = (ws, p) => ws.replace(/[\\/]+$/, "") + path.sep + p; // Path.Combine keeps the "./"

async function runUses(scope, rec, step, c, envCtx, stepEnv) {
  const job = scope.job;
  const ref = parseUses(step.uses);
  const github = { ...c.values.github };
  let dir;
  let handler;
  if (ref.kind === "docker") throw new Error(`Container actions ('${ref.uses}') are not supported by the harness`);
  if (ref.kind === "local") dir = selfPath(github.workspace, ref.path);
  else ({ dir, handler } = resolveRemote(job, ref));
  // ActionRunner: action_repository/action_ref for remote actions, empty otherwise
  github.action_repository = ref.kind === "remote" ? ref.name : "";
  github.action_ref = ref.kind === "remote" ? ref.ref : "";
  const withVals = evalMap(step.with, c);
  if (handler) return runHandler(scope, rec, ref, handler, withVals, envCtx, github);

  const action = loadAction(dir);
  const runs = action.doc.runs ?? {};
  const inputs = resolveInputs(job, rec, action, withVals, c);
  if (runs.using === "composite") return runComposite(scope, rec, action, inputs, envCtx, stepEnv, github);
  if (!/^node\d+$/.test(runs.using ?? "")) throw new Error(`'${runs.using}' actions are not supported by the harness (${ref.uses})`);
  // Inside a composite a node action sees the enclosing composite's action_path; at job level none.
  if (runs.pre) {
    if (ref.kind === "local") logWarning(job, rec, `\`pre\` execution is not supported for local action from '${ref.uses}'`);
    else logWarning(job, rec, `harness: \`pre\` of '${ref.uses}' is not run`);
  }
  let post;
  if (runs.post) {
    // registered before main runs; post-if (default always()) is used as written, no success() wrap
    post = { uses: ref.uses, action, inputs, envCtx, github: { ...github }, condition: String(runs["post-if"] ?? "always()"), state: {} };
    job.post.push(post);
  }
  const r = await runNode(scope, rec, action, inputs, envCtx, github, "main");
  if (post) post.state = r.state;
  return r;
}

async function runComposite(parent, rec, action, inputs, envCtx, stepEnv, github) {
  const job = parent.job;
  const depth = (parent.depth ?? 0) + 1;
  if (depth > MAX_DEPTH) throw new Error(`Composite action depth exceeded max depth ${MAX_DEPTH}`);
  const scope = {
    kind: "composite",
    job,
    depth,
    signal: parent.signal,
    stepDefs: action.doc.runs.steps ?? [],
    stepsCtx: {},
    status: "success",
    inputs,
    // env overrides of the invoking step (and of its ancestors) win over $GITHUB_ENV (runner#1794)
    overrides: { ...(parent.kind === "composite" ? parent.overrides : {}), ...stepEnv },
    github: { ...github, action_path: action.dir },
    records: [],
    parentRecord: rec,
  };
  for (const rem of scope.stepDefs) if (rem.uses !== undefined && parseUses(rem.uses).kind === "remote") resolveRemote(job, parseUses(rem.uses)); // "download" up front
  await runSteps(scope);
  rec.children = scope.records;
  rec.steps = scope.stepsCtx;
  // outputs are evaluated once after all steps, even when the composite failed
  const c = makeCtx(scope, { ...scope.github }, envCtx);
  const outputs = {};
  let outcome = scope.status;
  try {
    for (const [id, o] of Object.entries(action.doc.outputs ?? {})) outputs[id] = evalStr(o?.value, c) ?? "";
  } catch (e) {
    logError(job, rec, e);
    outcome = "failure";
  }
  return { outcome, outputs, state: {} };
}

function generatedName(scope, step) {
  let base = "run";
  if (step.uses !== undefined) {
    try {
      const r = parseUses(step.uses);
      base = r.kind === "local" ? "self" : r.kind === "remote" ? `${r.owner}_${r.repo}` : "docker";
    } catch {
      base = "uses";
    }
  }
  base = `__${base.replace(/[^A-Za-z0-9_]/g, "_")}`;
  scope.names ??= new Map();
  const n = (scope.names.get(base) ?? 0) + 1;
  scope.names.set(base, n);
  return n === 1 ? base : `${base}_${n}`;
}

async function runSteps(scope) {
  const job = scope.job;
  for (let index = 0; index < scope.stepDefs.length; index++) {
    const step = scope.stepDefs[index] ?? {};
    const rec = newRecord(scope.parentRecord, index, step);
    scope.records.push(rec);
    const github = { ...scope.github };
    if (scope.kind === "job") github.action = rec.id ?? generatedName(scope, step);
    let envCtx = scope.kind === "job" ? { ...job.env } : { ...job.env, ...scope.overrides };
    const c = makeCtx(scope, github, envCtx);
    let headerDone = false;
    const header = () => {
      if (!headerDone) appendLog(job, rec, `##[group]${displayName(step, c)}\n##[endgroup]\n`);
      headerDone = true;
    };

    let stepEnv = {};
    let envError;
    try {
      stepEnv = evalMap(step.env, c);
    } catch (e) {
      envError = e;
    }
    envCtx = { ...envCtx, ...stepEnv };
    c.values.env = envCtx;

    let run = false;
    if (envError) {
      header();
      logError(job, rec, envError);
      rec.outcome = rec.conclusion = "failure";
    } else {
      let ok;
      try {
        ok = truthy(evalExpr(ifCondition(step.if), c));
      } catch (e) {
        header();
        logError(job, rec, e);
        rec.outcome = rec.conclusion = "failure";
        if (scope.kind === "composite") {
          // the composite fails and stops here: later always() steps do not run
          scope.status = "failure";
          if (rec.id) scope.stepsCtx[rec.id] = { outputs: {}, outcome: "failure", conclusion: "failure" };
          break;
        }
        job.status = "failure";
        if (rec.id) scope.stepsCtx[rec.id] = { outputs: {}, outcome: "failure", conclusion: "failure" };
        continue;
      }
      if (!ok) rec.outcome = rec.conclusion = "skipped";
      else run = true;
    }

    if (run) {
      header();
      let timer;
      const ac = scope.kind === "job" ? new AbortController() : null;
      if (ac) {
        scope.signal = ac.signal;
        const minutes = step["timeout-minutes"] !== undefined ? Number(evalStr(step["timeout-minutes"], c)) : 0;
        if (minutes > 0)
          timer = setTimeout(() => {
            rec.timedOut = true;
            ac.abort();
          }, minutes * 60_000);
      }
      try {
        const r = step.run !== undefined ? await runScript(scope, rec, step, c, envCtx) : await runUses(scope, rec, step, c, envCtx, stepEnv);
        rec.outcome = r.outcome;
        rec.outputs = r.outputs;
        rec.state = r.state;
      } catch (e) {
        logError(job, rec, e);
        rec.outcome = "failure";
      } finally {
        clearTimeout(timer);
      }
      if (rec.timedOut) {
        logError(job, rec, `The action '${displayName(step, c)}' has timed out after ${step["timeout-minutes"]} minutes.`);
        rec.outcome = "failure";
      }
      let soft = false;
      try {
        soft = evalBool(step["continue-on-error"], c);
      } catch (e) {
        logError(job, rec, e);
      }
      rec.conclusion = rec.outcome === "failure" && soft ? "success" : rec.outcome;
      if (rec.conclusion === "failure") {
        if (scope.kind === "composite") scope.status = "failure";
        else job.status = "failure";
      }
    } else if (envError) {
      if (scope.kind === "composite") scope.status = "failure";
      else job.status = "failure";
    }
    if (rec.id) scope.stepsCtx[rec.id] = { outputs: { ...rec.outputs }, outcome: rec.outcome, conclusion: rec.conclusion };
  }
}

async function runPosts(job) {
  const results = [];
  while (job.post.length) {
    const p = job.post.pop();
    const rec = newRecord(null, results.length, { uses: p.uses });
    rec.stage = "post";
    const scope = { kind: "job", job, stepsCtx: {}, inputs: p.inputs, status: job.status };
    const c = makeCtx(scope, p.github, job.env);
    appendLog(job, rec, `##[group]Post ${p.uses}\n##[endgroup]\n`);
    let ok;
    try {
      ok = truthy(evalExpr(p.condition, c));
    } catch (e) {
      logError(job, rec, e);
      ok = false;
      rec.outcome = "failure";
    }
    if (ok) {
      const r = await runNode(scope, rec, p.action, p.inputs, p.envCtx, { ...p.github }, "post", p.state);
      rec.outcome = r.outcome;
    } else if (rec.outcome !== "failure") rec.outcome = "skipped";
    rec.conclusion = rec.outcome;
    if (rec.outcome === "failure") job.status = "failure";
    results.push(rec);
  }
  return results;
}

function killOrphans(job) {
  // The runner kills every process left by the job's steps at job end ("Cleaning up orphan processes").
  for (const pgid of job.pgids) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

function validateJob(steps, opts) {
  if (!Array.isArray(steps)) throw new Error("runJob: `steps` must be an array (or a YAML string of one)");
  const jobDef = { "runs-on": "ubuntu-latest", steps };
  if (opts.env && Object.keys(opts.env).length) jobDef.env = opts.env;
  if (opts.defaults) jobDef.defaults = opts.defaults;
  const content = YAML.stringify({ on: "push", jobs: { test: jobDef } });
  const r = parseWorkflow({ name: "harness-job.yml", content }, new NoOperationTraceWriter());
  const errs = r.context.errors.getErrors();
  if (errs.length) throw new Error(`Invalid job:\n${errs.map((e) => e.message).join("\n")}\n---\n${content}`);
}

function cleanRecord(rec) {
  const { parent, ...rest } = rec;
  if (rest.children) rest.children = rest.children.map(cleanRecord);
  if (rest.errors.length === 0) delete rest.errors;
  return rest;
}

function mask(text, masks) {
  let out = text;
  for (const m of [...masks].sort((a, b) => b.length - a.length)) out = out.split(m).join("***");
  return out;
}

/**
 * Runs a job: a list of steps (`{uses, with, env, if, id, name, 'continue-on-error',
 * 'timeout-minutes'}` or `{run, shell, 'working-directory', env, if, ...}`), like a workflow
 * job on a GitHub-hosted runner, then the post steps of node actions. See README.md.
 */
export async function runJob(opts = {}) {
  const steps = typeof opts.steps === "string" ? YAML.parse(opts.steps) : opts.steps ?? [];
  validateJob(steps, opts);
  const job = createJob(opts);
  const scope = { kind: "job", job, stepDefs: steps, stepsCtx: {}, inputs: job.inputs, github: job.github, records: [], parentRecord: null, depth: 0 };
  // job-level env (workflow env + job env) may use github, secrets, vars, inputs, matrix, ...
  job.env = evalMap(opts.env, makeCtx(scope, job.github, {}));
  let post = [];
  try {
    await runSteps(scope);
    post = await runPosts(job);
  } finally {
    killOrphans(job);
  }
  const records = scope.records.map(cleanRecord);
  const log = job.log.join("");
  const result = {
    outcome: job.status,
    conclusion: job.status,
    steps: records,
    post: post.map(cleanRecord),
    env: { ...job.env },
    path: [...job.path],
    log,
    maskedLog: mask(log, job.masks),
    summary: job.summary.join(""),
    annotations: job.annotations,
    masks: [...job.masks],
    remoteCalls: job.remoteCalls,
    workspace: job.workspace,
    home: job.home,
    temp: job.temp,
    root: job.root,
    github: job.github,
    runner: job.runner,
    cleanup: () => {
      removeTree(job.root);
      createdRoots.delete(job.root);
    },
  };
  Object.defineProperty(result, "step", {
    enumerable: false,
    value: (key) => (typeof key === "number" ? records[key] : records.find((r) => r.id === key)),
  });
  return result;
}

/**
 * Runs one action as the single step of a job: runAction({workspace, uses: './', with, stepEnv,
 * ...runJob options}). Returns that step's record (outcome, conclusion, outputs, steps = the
 * composite's own steps context, children, log) merged over the job result (post, env, path,
 * summary, ...); `job` is the full job result.
 */
export async function runAction({ uses = "./", with: w = {}, stepEnv, id = "action", ...rest } = {}) {
  const step = { id, uses, with: w };
  if (stepEnv) step.env = stepEnv;
  const job = await runJob({ ...rest, steps: [step] });
  const s = job.steps[0];
  const result = { ...job, ...s, log: job.log, summary: job.summary, annotations: job.annotations, stepLog: s.log, job };
  Object.defineProperty(result, "step", { enumerable: false, value: job.step });
  return result;
}
