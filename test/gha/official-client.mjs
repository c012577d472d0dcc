#!/usr/bin/env node
// official-client.mjs — drive GitHub's own cache client, npm @actions/cache (pinned 6.3.0 in
// package-lock.json), outside a runner, as an interop oracle for cachekit's `github` backend.
//
//   node official-client.mjs save    [options] <key> <path...>
//   node official-client.mjs restore [options] <key> [--restore-keys a,b] <path...>
//   node official-client.mjs version [options] <path...>        (no service needed)
// options:
//   --workspace DIR      GITHUB_WORKSPACE and the working directory (default: $GITHUB_WORKSPACE, else cwd);
//                        relative paths resolve against it, archive members are relative to it
//   --restore-keys a,b   restore keys, in order (restore only); may be repeated
//   --lookup-only        restore: only ask the service, do not download
//   --cross-os           enableCrossOsArchive (changes the version on Windows only)
//   --timeout-ms N       restore: the download's socket timeout (DownloadOptions.timeoutInMs)
//
// Env it reads (what a runner gives a node action): ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN
// (both required), ACTIONS_CACHE_SERVICE_V2 (set to 1 when unset), GITHUB_WORKSPACE, RUNNER_TEMP
// (a fresh temp dir when unset, removed at exit), ACTIONS_CACHE_MODE, RUNNER_DEBUG,
// SEGMENT_DOWNLOAD_TIMEOUT_MINS. GITHUB_SERVER_URL and ACTIONS_CACHE_URL are removed: a
// localhost server URL counts as GHES and would force the legacy v1 API.
//
// stdout: exactly one JSON line, e.g.
//   {"command":"save","key":"k","version":"<sha256>","cache_id":10000000001,"saved":true}
//   {"command":"restore","key":"k","restore_keys":["k-"],"version":"…","matched_key":"k-1","hit":true,"exact":false}
//   {"command":"version","paths":[…],"compression":"zstd-without-long","version":"…"}
// The library's log (::debug::/::warning:: lines, "Cache hit for: …", "Failed to save: …") goes
// to stderr. Exit status: 0 saved / hit, 3 not saved / miss, 2 usage or validation error, 1 crash.
// *.blob.core.windows.net resolves to 127.0.0.1 here (the double's blob_mode "azure-host", which
// makes the library take its Azure SDK download path: HEAD + parallel 4 MiB ranged GETs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dns from 'node:dns';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = (obj) => fs.writeSync(1, JSON.stringify(obj) + '\n');
const usage = (msg) => {
  if (msg) process.stderr.write(`official-client: ${msg}\n`);
  process.stderr.write('usage: official-client.mjs save [opts] <key> <path...>\n' +
    '       official-client.mjs restore [opts] <key> [--restore-keys a,b] <path...>\n' +
    '       official-client.mjs version [opts] <path...>\n');
  process.exit(2);
};

// --- arguments ---------------------------------------------------------------------------------
const [command, ...rest] = process.argv.slice(2);
if (!['save', 'restore', 'version'].includes(command)) usage(command ? `unknown command ${command}` : '');
const o = { restoreKeys: [], positional: [], lookupOnly: false, crossOs: false };
for (let i = 0; i < rest.length; i++) {
  const a = rest[i];
  const val = () => (i + 1 < rest.length ? rest[++i] : usage(`${a} needs a value`));
  if (a === '--restore-keys') o.restoreKeys.push(...val().split(',').filter(Boolean));
  else if (a.startsWith('--restore-keys=')) o.restoreKeys.push(...a.slice(15).split(',').filter(Boolean));
  else if (a === '--workspace') o.workspace = val();
  else if (a === '--lookup-only') o.lookupOnly = true;
  else if (a === '--cross-os') o.crossOs = true;
  else if (a === '--timeout-ms') o.timeoutMs = Number(val());
  else if (a === '--') o.positional.push(...rest.slice(i + 1)), (i = rest.length);
  else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else o.positional.push(a);
}
let key;
if (command !== 'version') key = o.positional.shift();
const paths = o.positional;
if ((command !== 'version' && !key) || !paths.length) usage('a key and at least one path are needed');
if (command !== 'restore' && (o.restoreKeys.length || o.lookupOnly)) usage('--restore-keys/--lookup-only are for restore');

// --- environment -------------------------------------------------------------------------------
const env = process.env;
if (command !== 'version') {
  for (const v of ['ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN']) if (!env[v]) usage(`${v} is not set`);
}
if (!env.ACTIONS_CACHE_SERVICE_V2) env.ACTIONS_CACHE_SERVICE_V2 = '1';
delete env.GITHUB_SERVER_URL;
delete env.ACTIONS_CACHE_URL;
const workspace = path.resolve(o.workspace ?? env.GITHUB_WORKSPACE ?? process.cwd());
env.GITHUB_WORKSPACE = workspace;
process.chdir(workspace);
let ownTemp;
if (!env.RUNNER_TEMP) env.RUNNER_TEMP = ownTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'cachekit-gha-runner-temp-'));
const finish = (code) => {
  if (ownTemp) fs.rmSync(ownTemp, { recursive: true, force: true });
  process.exit(code); // the library may leave handles open
};

// The library logs with process.stdout.write (and tar's output goes there too): send it to
// stderr so stdout carries only our JSON line.
process.stdout.write = process.stderr.write.bind(process.stderr);

// *.blob.core.windows.net -> 127.0.0.1 (for the double's azure-host blob mode)
const realLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof hostname === 'string' && /\.blob\.core\.windows\.net$/i.test(hostname)) {
    const cb = typeof options === 'function' ? options : callback;
    const all = typeof options === 'object' && options?.all;
    return process.nextTick(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
  }
  return realLookup.call(this, hostname, options, callback);
};

// --- run -------------------------------------------------------------------------------------
const lib = path.join(here, 'node_modules/@actions/cache/lib');
if (!fs.existsSync(lib)) {
  process.stderr.write(`official-client: ${lib} is missing: run test/gha/install.sh\n`);
  finish(1);
}
const cache = await import(pathToFileURL(path.join(lib, 'cache.js')).href);
const utils = await import(pathToFileURL(path.join(lib, 'internal/cacheUtils.js')).href);
const compression = await utils.getCompressionMethod();
const version = utils.getCacheVersion(paths.slice(), compression, o.crossOs);

try {
  if (command === 'version') {
    out({ command, paths, compression, cross_os: o.crossOs, version });
    finish(0);
  } else if (command === 'save') {
    const id = await cache.saveCache(paths.slice(), key, undefined, o.crossOs);
    out({ command, key, paths, version, cache_id: id, saved: id !== -1 });
    finish(id !== -1 ? 0 : 3);
  } else {
    const options = { lookupOnly: o.lookupOnly };
    if (o.timeoutMs) options.timeoutInMs = o.timeoutMs;
    const matched = await cache.restoreCache(paths.slice(), key, o.restoreKeys, options, o.crossOs);
    out({
      command, key, restore_keys: o.restoreKeys, paths, version, lookup_only: o.lookupOnly,
      matched_key: matched ?? null, hit: matched !== undefined, exact: matched === key,
    });
    finish(matched !== undefined ? 0 : 3);
  }
} catch (e) {
  const validation = e?.name === 'ValidationError';
  process.stderr.write(`official-client: ${e?.name ?? 'Error'}: ${e?.message ?? e}\n`);
  out({ command, key, paths, version, error: { name: e?.name, message: e?.message ?? String(e) } });
  finish(validation ? 2 : 1);
}
