// Shared machinery of the end-to-end scenarios: runs the repository's own action.yml files
// through the action harness the way a consumer's workflow does
// (`uses: milaboratory/cachekit/actions/golang/cache-s3@<sha>`, served from this checkout).
//
// The storage backend is chosen in ONE place, `BACKENDS` / `backendInputs()` below: `local`
// always; `s3` when S3_ENDPOINT is set (S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY, S3_INSECURE,
// S3_REGION), otherwise the S3 variants are reported as skipped.
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runJob, removeTree } from "../action-runner/run-action.mjs";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "..", "..");
export const FIXTURES = path.join(HERE, "fixtures");
/** The checkout that serves `milaboratory/cachekit/...@<sha>` (override: E2E_ACTION_REPO, e.g. a mutated copy). */
export const ACTION_REPO = path.resolve(process.env.E2E_ACTION_REPO || REPO);
export const RUNNER_OS = { linux: "Linux", darwin: "macOS", win32: "Windows" }[process.platform];
export const RUNNER_ARCH = { x64: "X64", arm64: "ARM64" }[process.arch];
/** Any 40-hex ref: the harness serves every ref of milaboratory/cachekit from this checkout. */
export const SHA = (() => {
  try {
    return execFileSync("git", ["-C", REPO, "rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "0123456789abcdef0123456789abcdef01234567";
  }
})();
export const uses = (action) => `milaboratory/cachekit/${action}@${SHA}`;

// ---------------------------------------------------------------------------------------------
// temp dirs
// ---------------------------------------------------------------------------------------------

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), "cachekit-e2e-"));
process.on("exit", () => {
  if (process.env.ACTION_RUNNER_KEEP_TEMP) {
    process.stderr.write(`cachekit e2e: kept ${ROOT}\n`);
    return;
  }
  removeTree(ROOT);
});
let counter = 0;
export function tempDir(name) {
  const d = path.join(ROOT, `${name}-${++counter}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

// ---------------------------------------------------------------------------------------------
// the helper binary
// ---------------------------------------------------------------------------------------------

/**
 * A private copy of the helper (another engineer may relink build/native/cachekit while we run),
 * wrapped in a shim that records how the action called it — command, arguments, key,
 * restore-keys, path, state-id, whether a secret was passed (never the secret), the sha256 of
 * the GitHub runtime token it got (never the token) — into $E2E_RECORD_DIR.
 * run-tests.sh makes the copy once and passes E2E_CACHEKIT_REAL; CACHEKIT_BIN picks the binary.
 */
function prepareHelper() {
  let real = process.env.E2E_CACHEKIT_REAL;
  if (!real) {
    const src = process.env.CACHEKIT_BIN || path.join(REPO, "build", "native", "cachekit");
    real = path.join(ROOT, "bin", "cachekit");
    fs.mkdirSync(path.dirname(real), { recursive: true });
    let lastErr;
    for (let i = 0; i < 20; i++) {
      try {
        fs.copyFileSync(src, real);
        fs.chmodSync(real, 0o755);
        execFileSync(real, ["version"], { stdio: "pipe" });
        lastErr = null;
        break;
      } catch (e) {
        lastErr = e; // being relinked: wait and retry
        execFileSync("sleep", ["1"]);
      }
    }
    if (lastErr) throw new Error(`cannot use the helper ${src}: ${lastErr.message}`);
  }
  const shim = path.join(ROOT, "bin", "cachekit-shim");
  fs.mkdirSync(path.dirname(shim), { recursive: true });
  fs.writeFileSync(
    shim,
    `#!/usr/bin/env bash
# e2e shim: record how the action invoked the helper (never a secret), then run it.
if [ -n "\${E2E_RECORD_DIR:-}" ]; then
  d=$(mktemp -d "$E2E_RECORD_DIR/$(date +%s%N).XXXXXX")
  printf '%s' "\${1-}" >"$d/command"
  printf '%s' "\${CACHEKIT_KEY-}" >"$d/key"
  printf '%s' "\${CACHEKIT_RESTORE_KEYS-}" >"$d/restore-keys"
  printf '%s' "\${CACHEKIT_PATH-}" >"$d/path"
  printf '%s' "\${CACHEKIT_STATE_ID-}" >"$d/state-id"
  printf '%s' "\${CACHEKIT_BACKEND-}" >"$d/backend"
  if [ -n "\${CACHEKIT_SECRET_KEY:-}" ]; then printf yes >"$d/secret-given"; else printf no >"$d/secret-given"; fi
  printf '%s' "$*" >"$d/args"
  # the GitHub runtime token: only its sha256 (the raw value must not land in files)
  if [ -n "\${CACHEKIT_GITHUB_TOKEN:-}" ]; then printf '%s' "$CACHEKIT_GITHUB_TOKEN" | sha256sum | cut -c1-64 >"$d/github-token-sha"; else : >"$d/github-token-sha"; fi
  printf '%s' "\${CACHEKIT_GITHUB_RESULTS_URL-}" >"$d/github-results-url"
  if [ -n "\${ACTIONS_RUNTIME_TOKEN:-}" ]; then printf yes >"$d/runtime-env"; else printf no >"$d/runtime-env"; fi
fi
exec ${JSON.stringify(real)} "$@"
`,
    { mode: 0o755 },
  );
  return { real, shim };
}
export const HELPER = prepareHelper();

/** The helper's calls recorded by the shim in dir, oldest first. */
export function readCalls(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .map((n) => {
      const d = path.join(dir, n);
      const f = (x) => fs.readFileSync(path.join(d, x), "utf8");
      return {
        command: f("command"),
        key: f("key"),
        restoreKeys: f("restore-keys"),
        path: f("path"),
        stateId: f("state-id"),
        backend: f("backend"),
        secretGiven: f("secret-given") === "yes",
        args: f("args"),
        githubTokenSha: f("github-token-sha").trim(),
        githubResultsUrl: f("github-results-url"),
        runtimeEnv: f("runtime-env") === "yes",
      };
    });
}

// ---------------------------------------------------------------------------------------------
// backends: the one place to switch
// ---------------------------------------------------------------------------------------------

// S3_ACCESS_KEY/S3_SECRET_KEY, or the AWS_* names test/servers/start-rgw.sh prints.
// An http:// endpoint (as start-rgw.sh prints it) becomes host:port + insecure: true, the way the
// wrappers document it (endpoint = host, no scheme; the helper refuses http:// with insecure false).
const rawEndpoint = process.env.S3_ENDPOINT ?? "";
const S3 = {
  endpoint: rawEndpoint.replace(/^https?:\/\//, "").replace(/\/+$/, ""),
  bucket: process.env.S3_BUCKET || "ci-actions-cache",
  region: process.env.S3_REGION || process.env.AWS_REGION || "us-east-1",
  insecure: process.env.S3_INSECURE || (rawEndpoint.startsWith("http://") ? "true" : "false"),
  accessKey: process.env.S3_ACCESS_KEY || process.env.AWS_ACCESS_KEY_ID || "",
  secretKey: process.env.S3_SECRET_KEY || process.env.AWS_SECRET_ACCESS_KEY || "",
};
const only = process.env.E2E_BACKENDS ? process.env.E2E_BACKENDS.split(/[\s,]+/) : null; // e.g. E2E_BACKENDS=local
export const BACKENDS = [
  { name: "local", skip: false },
  {
    name: "s3",
    skip: rawEndpoint
      ? false
      : "S3_ENDPOINT not set (S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY[, S3_INSECURE, S3_REGION]; test/servers/start-rgw.sh starts one)",
  },
].map((b) => (only && !only.includes(b.name) ? { ...b, skip: `not in E2E_BACKENDS=${process.env.E2E_BACKENDS}` } : b));

/**
 * A cache store for one scenario: every job of the scenario that uses the same store sees the
 * same entries. Isolation: a private local dir, and for S3 a unique repository scope (the
 * helper keys objects by repository/ref), so scenarios never see each other's entries.
 */
export function makeStore(backend, label) {
  const id = `${label}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  if (backend === "s3") {
    return {
      backend,
      repository: `cachekit-e2e/${id}`,
      secrets: { S3_ACCESS_KEY: S3.accessKey, S3_SECRET_KEY: S3.secretKey },
    };
  }
  return {
    backend,
    localDir: tempDir(`store-${label}`),
    repository: `cachekit-e2e/${label}`,
    // Fake credentials: they must flow through the actions without ever being logged or written.
    secrets: { S3_ACCESS_KEY: "E2E-FAKE-ACCESS-KEY", S3_SECRET_KEY: `e2e-fake-secret-${randomBytes(12).toString("hex")}` },
  };
}

/** `with:` inputs of a restore action for this store (credentials come from the secrets context). */
export function backendInputs(store) {
  const creds = { "access-key": "${{ secrets.S3_ACCESS_KEY }}", "secret-key": "${{ secrets.S3_SECRET_KEY }}" };
  if (store.backend === "s3") {
    return { backend: "s3", endpoint: S3.endpoint, bucket: S3.bucket, region: S3.region, insecure: S3.insecure, "use-fallback": "false", ...creds };
  }
  return { backend: "local", "local-dir": store.localDir, ...creds };
}

/** `with:` inputs of a save action: only the credentials. */
export function saveInputs() {
  return { "access-key": "${{ secrets.S3_ACCESS_KEY }}", "secret-key": "${{ secrets.S3_SECRET_KEY }}" };
}

/** Lists the store's entry keys (through the helper's own `ls`), for "nothing was saved" checks. */
export function storeKeys(store) {
  const args = ["ls", "--repository", store.repository, "--all-refs"];
  const env = { PATH: process.env.PATH, HOME: os.tmpdir() };
  if (store.backend === "s3") {
    Object.assign(env, {
      CACHEKIT_BACKEND: "s3",
      CACHEKIT_ENDPOINT: S3.endpoint,
      CACHEKIT_BUCKET: S3.bucket,
      CACHEKIT_REGION: S3.region,
      CACHEKIT_INSECURE: S3.insecure,
      CACHEKIT_ACCESS_KEY: S3.accessKey,
      CACHEKIT_SECRET_KEY: S3.secretKey,
    });
  } else {
    Object.assign(env, { CACHEKIT_BACKEND: "local", CACHEKIT_LOCAL_DIR: store.localDir });
  }
  const out = execFileSync(HELPER.real, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  // a header, one row per entry (SIZE AGE USED VERSION REF KEY; KEY last, keys have no spaces),
  // then "N entries, TOTAL"
  const lines = out.split("\n").filter(Boolean);
  const total = /^(\d+) entries, /.exec(lines.at(-1) ?? "");
  if (!total) throw new Error(`unexpected output of cachekit ls:\n${out}`);
  const keys = lines.slice(1, -1).map((l) => l.trim().split(/\s+/).at(-1));
  if (keys.length !== Number(total[1])) throw new Error(`unexpected output of cachekit ls:\n${out}`);
  return keys;
}

// ---------------------------------------------------------------------------------------------
// a runner machine: fixed HOME and workspace paths (as on a hosted runner), wiped for "fresh"
// ---------------------------------------------------------------------------------------------

/**
 * HOME and GITHUB_WORKSPACE keep their paths across jobs, like /home/runner and
 * /home/runner/work/<repo>/<repo> on hosted runners (pnpm's store path is absolute, so it is
 * part of the cache version). `fresh()` models a new machine: both wiped, the fixture copied.
 */
export class Machine {
  constructor(fixture, store) {
    this.fixture = fixture;
    this.store = store;
    this.dir = tempDir(`machine-${fixture}`);
    this.home = path.join(this.dir, "home", "runner");
    this.workspace = path.join(this.dir, "home", "runner", "work", "project", "project");
    this.records = path.join(this.dir, "helper-calls");
    this.jobs = 0;
    this.fresh();
  }

  fresh() {
    removeTree(this.home);
    fs.mkdirSync(this.workspace, { recursive: true });
    fs.cpSync(path.join(FIXTURES, this.fixture), this.workspace, { recursive: true });
    return this;
  }

  /** Runs one job on this machine; returns the harness result plus `calls` (the helper calls of this job). */
  async job(steps, { env = {}, github = {}, ...opts } = {}) {
    const rec = path.join(this.records, String(++this.jobs));
    fs.mkdirSync(rec, { recursive: true });
    const r = await runJob({
      workspace: this.workspace,
      home: this.home,
      // Only PATH (and locale/tmp) from the test process: the outer CI's GOCACHE, CARGO_HOME,
      // S3_* and friends must not reach the steps.
      inheritEnv: ["TMPDIR", "LANG", "LC_ALL"],
      env: { CACHEKIT_BIN: HELPER.shim, E2E_RECORD_DIR: rec, ...env },
      github: { repository: this.store.repository, ...github },
      secrets: this.store.secrets,
      remoteActions: { "milaboratory/cachekit": ACTION_REPO },
      processTimeoutMs: 120_000,
      ...opts,
      steps,
    });
    r.calls = readCalls(rec);
    return r;
  }
}

// ---------------------------------------------------------------------------------------------
// file trees
// ---------------------------------------------------------------------------------------------

export const sha256 = (data) => createHash("sha256").update(data).digest();

/**
 * hashFiles() computed independently of the harness: sha256 over the raw 32-byte sha256 of
 * each matched file, in the order the runner visits them (given by the test).
 */
export function expectedHashFiles(workspace, relFiles) {
  if (!relFiles.length) return "";
  const outer = createHash("sha256");
  for (const f of relFiles) outer.update(sha256(fs.readFileSync(path.join(workspace, f))));
  return outer.digest("hex");
}

/**
 * {relpath: "type mode size sha256 mtime"} of everything under root (dirs: type and mode only;
 * files: with their content hash and whole-second mtime; symlinks: their target).
 */
export function snapshot(root) {
  const out = {};
  const walk = (abs, rel) => {
    const st = fs.lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
    if (st.isDirectory()) {
      out[rel || "."] = `dir ${mode}`;
      for (const n of fs.readdirSync(abs).sort()) walk(path.join(abs, n), rel ? `${rel}/${n}` : n);
    } else if (st.isSymbolicLink()) {
      out[rel] = `symlink -> ${fs.readlinkSync(abs)}`;
    } else if (st.isFile()) {
      const h = createHash("sha256").update(fs.readFileSync(abs)).digest("hex").slice(0, 16);
      out[rel] = `file ${mode} ${st.size} ${h} mtime=${Math.floor(st.mtimeMs / 1000)}`;
    } else {
      out[rel] = "other";
    }
  };
  if (fs.existsSync(root)) walk(root, "");
  return out;
}

/** Snapshots of several roots, keyed by root name. */
export function snapshots(roots) {
  return Object.fromEntries(Object.entries(roots).map(([name, p]) => [name, snapshot(p)]));
}

/** Every regular file under dir (recursively), for leak checks. */
export function allFiles(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The job log without `::add-mask::` command lines (the runner consumes those and never shows them). */
export const logWithoutMaskCommands = (log) =>
  log
    .split("\n")
    .filter((l) => !l.startsWith("::add-mask::"))
    .join("\n");
