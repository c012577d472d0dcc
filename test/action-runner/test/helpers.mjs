// Shared helpers for the harness's own tests.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.join(HERE, "..", "fixtures");

const made = [];
process.on("exit", () => {
  if (process.env.ACTION_RUNNER_KEEP_TEMP) return;
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A temp directory filled from {"rel/path": "content"}. */
export function tempDir(files = {}, prefix = "ws-") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `action-runner-test-${prefix}`));
  made.push(dir);
  for (const [rel, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  }
  return dir;
}

/** A private copy of fixtures/<name> (steps may write into their workspace). */
export function copyFixture(name) {
  const dir = tempDir({}, `${name}-`);
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

export const sha256 = (data) => createHash("sha256").update(data).digest();

/** hashFiles() computed independently: sha256 over the raw sha256 of each file, in the given order. */
export function expectedHash(dir, relFiles) {
  if (!relFiles.length) return "";
  const outer = createHash("sha256");
  for (const f of relFiles) outer.update(sha256(fs.readFileSync(path.join(dir, f))));
  return outer.digest("hex");
}

export const RUNNER_OS = { linux: "Linux", darwin: "macOS", win32: "Windows" }[process.platform];
export const RUNNER_ARCH = { x64: "X64", arm64: "ARM64" }[process.arch];
