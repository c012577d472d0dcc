// Shared helpers for the test double's tests (node --test). The servers are started by
// run-tests.sh (start.sh), which exports their KEY=VALUE lines into the environment.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const GHA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVICE = 'github.actions.results.api.v1.CacheService';

export function env() {
  const e = process.env;
  for (const v of ['ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN', 'CACHEKIT_GHA_CONTROL_URL']) {
    if (!e[v]) throw new Error(`${v} is not set: run these tests with test/gha/run-tests.sh (it starts the servers)`);
  }
  return {
    resultsUrl: e.ACTIONS_RESULTS_URL, token: e.ACTIONS_RUNTIME_TOKEN, controlUrl: e.CACHEKIT_GHA_CONTROL_URL,
    azure: e.CACHEKIT_GHA_AZURITE_ENDPOINT,
  };
}

/**
 * One HTTP request. Resolves {status, headers, text, json}; rejects with err.code set
 * (ECONNREFUSED, ECONNRESET, ...) or 'TIMEOUT' (err.connected tells whether TCP connected).
 */
export function request(method, url, { body, headers = {}, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: false,
      headers: { ...(data ? { 'Content-Length': data.length } : {}), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString();
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, buf, text, json });
      });
    });
    let connected = false;
    req.on('socket', (s) => s.once('connect', () => { connected = true; }));
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`timeout after ${timeoutMs} ms`), { code: 'TIMEOUT', connected });
      req.destroy(err);
    }, timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.end(data);
  });
}

/** POST a twirp method of the cache service; `token: null` sends no Authorization. */
export function twirp(method, body, { token = env().token, headers = {}, timeoutMs } = {}) {
  const h = { 'Content-Type': 'application/json', ...headers };
  if (token !== null) h.Authorization = `Bearer ${token}`;
  return request('POST', new URL(`/twirp/${SERVICE}/${method}`, env().resultsUrl).href, { body, headers: h, timeoutMs });
}

/** Control API call; throws unless 2xx; returns the parsed JSON. */
export async function control(method, p, body) {
  const r = await request(method, new URL(p, env().controlUrl).href, {
    body, headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  });
  if (r.status >= 300) throw new Error(`control ${method} ${p}: HTTP ${r.status} ${r.text}`);
  return r.json;
}

/** A complete entry made over the raw protocol: Create, PUT the bytes to the SAS URL, Finalize. */
export async function putEntry(key, version, content = `content of ${key}`, { token } = {}) {
  const c = await twirp('CreateCacheEntry', { key, version }, { token });
  if (c.status !== 200 || !c.json.ok) throw new Error(`CreateCacheEntry ${key}: ${c.status} ${c.text}`);
  const buf = Buffer.from(content);
  const p = await request('PUT', c.json.signed_upload_url, { body: buf, headers: { 'x-ms-blob-type': 'BlockBlob' } });
  if (p.status !== 201) throw new Error(`PUT blob: ${p.status} ${p.text}`);
  const f = await twirp('FinalizeCacheEntryUpload', { key, version, size_bytes: String(buf.length) }, { token });
  if (f.status !== 200 || !f.json.ok) throw new Error(`Finalize ${key}: ${f.status} ${f.text}`);
  return f.json.entry_id;
}

/** Run official-client.mjs; resolves {code, out (parsed JSON line), stdout, stderr, ms}. */
export function runClient(args, { env: extra = {}, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(GHA_DIR, 'official-client.mjs'), ...args], {
      cwd, env: { ...process.env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => {
      let out;
      try { out = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* none */ }
      resolve({ code, out, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export const tmpdir = (tag = 'ws') => fs.mkdtempSync(path.join(os.tmpdir(), `cachekit-gha-${tag}-`));

/** A directory tree with the things an archive must keep: nesting, empty dir, symlinks, modes, odd names. */
export function makeTree(root, seed = 'x') {
  const rnd = (n) => crypto.createHash('sha256').update(seed).digest().toString('hex').repeat(Math.ceil(n / 64)).slice(0, n);
  fs.mkdirSync(path.join(root, 'sub/deeper'), { recursive: true });
  fs.mkdirSync(path.join(root, 'empty-dir'));
  fs.writeFileSync(path.join(root, 'a.txt'), `hello ${seed}\n`);
  fs.writeFileSync(path.join(root, 'sub/random.bin'), crypto.randomBytes(300 * 1024));
  fs.writeFileSync(path.join(root, 'sub/deeper/text.txt'), rnd(5000));
  fs.writeFileSync(path.join(root, 'sub/name with spaces é.txt'), 'odd name\n');
  fs.writeFileSync(path.join(root, 'sub/empty'), '');
  fs.writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.writeFileSync(path.join(root, 'readonly.txt'), 'ro\n', { mode: 0o444 });
  fs.symlinkSync('a.txt', path.join(root, 'link-to-a'));
  fs.symlinkSync('sub/deeper', path.join(root, 'link-to-dir'));
  const t = new Date('2024-05-06T07:08:09Z');
  fs.utimesSync(path.join(root, 'a.txt'), t, t);
}

/** Everything that must survive a round trip: type, mode bits, size, sha256, link target, mtime (s). */
export function snapshot(root) {
  const out = [];
  const walk = (rel) => {
    const abs = path.join(root, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(root, r));
      const e = { path: r, mode: (st.mode & 0o7777).toString(8) };
      if (st.isSymbolicLink()) Object.assign(e, { type: 'link', target: fs.readlinkSync(path.join(root, r)) });
      else if (st.isDirectory()) { e.type = 'dir'; out.push(e); walk(r); continue; }
      else Object.assign(e, {
        type: 'file', size: st.size, mtime: Math.floor(st.mtimeMs / 1000),
        sha256: crypto.createHash('sha256').update(fs.readFileSync(path.join(root, r))).digest('hex'),
      });
      out.push(e);
    }
  };
  walk('');
  return out;
}
