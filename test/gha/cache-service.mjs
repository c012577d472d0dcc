#!/usr/bin/env node
// cache-service.mjs — a test double of the GitHub Actions cache service v2 (the twirp JSON API the
// official @actions/cache client and cachekit's `github` backend speak), backed by a real blob
// store: Azurite. node stdlib only. See README.md in this directory for the full API.
//
// Three HTTP listeners on 127.0.0.1 (each port 0 = a free one unless set):
//   service  ACTIONS_RESULTS_URL: POST /twirp/github.actions.results.api.v1.CacheService/<Method>
//            CreateCacheEntry, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL;
//            Authorization: Bearer <token> required (401 otherwise).
//   control  test-only JSON API: entries, request log, fault injection, listener modes, config.
//   blob     a transparent proxy to Azurite. Signed URLs point at it in blob_mode "proxy" and
//            "azure-host" (so blob transfers can be logged and faulted); in "direct" (default)
//            they point at Azurite itself.
// Entry metadata lives in memory; the blobs live in Azurite (container created at start).
//
// Options: --flag value, or the environment variable in brackets.
//   --azurite-endpoint URL  [CACHEKIT_GHA_AZURITE_ENDPOINT]  http://127.0.0.1:PORT/devstoreaccount1 (required)
//   --account NAME          [AZURE_STORAGE_ACCOUNT]   devstoreaccount1
//   --account-key B64       [AZURE_STORAGE_KEY]       Azurite's well-known development key
//   --container NAME        [CACHEKIT_GHA_CONTAINER]  actions-cache
//   --host 127.0.0.1 --port N --control-port N --blob-port N
//                           [CACHEKIT_GHA_PORT, CACHEKIT_GHA_CONTROL_PORT, CACHEKIT_GHA_BLOB_PORT]
//   --token T               [CACHEKIT_GHA_TOKEN]      the runtime token to accept (default: a fixed JWT-shaped one)
//   --scopes JSON           [CACHEKIT_GHA_SCOPES]     its scopes, [{"scope":"refs/heads/main","permission":3}]
//   --blob-mode M           [CACHEKIT_GHA_BLOB_MODE]  direct | proxy | azure-host
//   --faults JSON           [CACHEKIT_GHA_FAULTS]     initial fault list (same objects as POST /faults)
//   --service-mode M        [CACHEKIT_GHA_SERVICE_MODE] up | refuse | drop | hang | reset
//   --ready-file PATH       [CACHEKIT_GHA_READY_FILE] written (KEY=VALUE lines) once all listeners are up
// On start it prints the same KEY=VALUE lines on stdout; SIGTERM/SIGINT stop it cleanly.
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { serviceSas, accountSas, SAS_VERSION } from './servers/azure-sas.mjs';

const SERVICE = 'github.actions.results.api.v1.CacheService';
const TWIRP_PREFIX = `/twirp/${SERVICE}/`;
const METHODS = ['CreateCacheEntry', 'FinalizeCacheEntryUpload', 'GetCacheEntryDownloadURL'];
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const MODES = ['up', 'refuse', 'drop', 'hang', 'reset'];
const BLOB_MODES = ['direct', 'proxy', 'azure-host'];
const MSG_EXISTS = 'cache entry with the same key, version, and scope already exists';

// ---------------------------------------------------------------------------------------------
// options
function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
    else o[a.slice(2)] = argv[++i];
  }
  return o;
}
const args = parseArgs(process.argv.slice(2));
const env = process.env;
const opt = (name, envName, dflt) => args[name] ?? (envName && env[envName]) ?? dflt;

const HOST = opt('host', 'CACHEKIT_GHA_HOST', '127.0.0.1');
const AZ_ENDPOINT = opt('azurite-endpoint', 'CACHEKIT_GHA_AZURITE_ENDPOINT', env.AZURE_BLOB_ENDPOINT);
const ACCOUNT = opt('account', 'AZURE_STORAGE_ACCOUNT', 'devstoreaccount1');
const ACCOUNT_KEY = opt('account-key', 'AZURE_STORAGE_KEY', AZURITE_KEY);
const CONTAINER = opt('container', 'CACHEKIT_GHA_CONTAINER', 'actions-cache');
const READY_FILE = opt('ready-file', 'CACHEKIT_GHA_READY_FILE', '');
if (!AZ_ENDPOINT) {
  console.error('cache-service: --azurite-endpoint (or AZURE_BLOB_ENDPOINT) is required');
  process.exit(2);
}
const az = new URL(AZ_ENDPOINT.replace(/\/+$/, ''));

/** A JWT-shaped token whose `ac` claim lists the scopes, like the runner's (never verified). */
function mintToken(scopes, tag = crypto.randomBytes(9).toString('base64url')) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const ac = JSON.stringify(scopes.map((s) => ({ Scope: s.scope, Permission: s.permission })));
  return `${b64({ typ: 'JWT', alg: 'none' })}.${b64({ iss: 'cachekit-gha-double', ac })}.${tag}`;
}
function normScopes(list) {
  if (!Array.isArray(list) || !list.length) throw new Error('scopes must be a non-empty array');
  return list.map((s) => {
    const scope = s.scope ?? s.Scope;
    const permission = Number(s.permission ?? s.Permission);
    if (typeof scope !== 'string' || !scope || !Number.isInteger(permission)) {
      throw new Error(`bad scope ${JSON.stringify(s)}`);
    }
    return { scope, permission };
  });
}
/** Scopes from a JWT's `ac` claim (a JSON string of [{Scope, Permission}]), or null. */
function scopesFromJwt(token) {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    return normScopes(JSON.parse(payload.ac));
  } catch {
    return null;
  }
}

const DEFAULT_SCOPES = normScopes(JSON.parse(opt('scopes', 'CACHEKIT_GHA_SCOPES',
  '[{"scope":"refs/heads/main","permission":3}]')));
const DEFAULT_TOKEN = opt('token', 'CACHEKIT_GHA_TOKEN', mintToken(DEFAULT_SCOPES, 'cachekit-gha-test-token'));

const DEFAULT_CONFIG = {
  blob_mode: 'direct',      // where signed URLs point: direct (Azurite) | proxy | azure-host
  verify_blob: true,        // Finalize checks the blob exists in Azurite and has size_bytes bytes
  validate_keys: true,      // 400 for an empty key/version, a key > 512 chars, > 10 keys
  accept_any_token: false,  // unknown tokens: 401 (false) or accepted, scopes from their JWT `ac` claim
  case_insensitive_keys: false, // match keys ignoring case
  sas_minutes: 60,          // lifetime of signed URLs
  upload_permissions: 'cw', // SAS permissions of signed_upload_url
  max_log: 2000,            // request log entries kept
};

// ---------------------------------------------------------------------------------------------
// state
const BASE_CONFIG = { ...DEFAULT_CONFIG, blob_mode: opt('blob-mode', 'CACHEKIT_GHA_BLOB_MODE', 'direct') };
const state = {
  config: { ...BASE_CONFIG },
  tokens: new Map([[DEFAULT_TOKEN, DEFAULT_SCOPES]]),
  entries: [],              // {id, key, version, scope, blob, state, created_seq, ...}
  nextId: 10000000000n,     // > 2^32 on purpose: entry ids are int64
  seq: 0,                   // creation order ("newest first")
  faults: [],               // queue, see takeFault
  log: [],
  logSeq: 0,
  held: new Set(),          // sockets of hung requests/connections, destroyed on reset
  blobStats: { in_flight: 0, max_in_flight: 0, by_op: {} },
};
if (!BLOB_MODES.includes(state.config.blob_mode)) {
  console.error(`cache-service: bad blob mode ${state.config.blob_mode}`);
  process.exit(2);
}

function record(e) {
  e.seq = ++state.logSeq;
  e.time = new Date().toISOString();
  state.log.push(e);
  if (state.log.length > state.config.max_log) state.log.splice(0, state.log.length - state.config.max_log);
  return e;
}

// ---------------------------------------------------------------------------------------------
// fault injection
const FAULT_ACTIONS = ['status', 'ok_false', 'hang', 'close', 'delay', 'truncate', 'stall'];
function addFault(f) {
  if (!f || typeof f.method !== 'string') throw new Error('fault needs "method"');
  const action = f.action ?? (f.status !== undefined ? 'status' : undefined);
  if (!FAULT_ACTIONS.includes(action)) throw new Error(`fault action must be one of ${FAULT_ACTIONS.join(', ')}`);
  const count = f.count === undefined ? 1 : Number(f.count);
  if (!(count > 0 || count === -1)) throw new Error('count must be > 0, or -1 for every call until cleared');
  const fault = { ...f, action, count, remaining: count === -1 ? Infinity : count, hits: 0, id: crypto.randomUUID() };
  if (action === 'status') {
    fault.status = Number(f.status);
    if (!(fault.status >= 100 && fault.status <= 599)) throw new Error('status fault needs "status"');
    if (fault.status === 429 && f.retry_after === undefined) fault.retry_after = 60;
  }
  state.faults.push(fault);
  return fault;
}
/** The first fault that applies to `method` ("CreateCacheEntry", "blob.PutBlock", ...). */
function takeFault(method) {
  const kind = method.startsWith('blob.') ? 'blob.*' : '*';
  const f = state.faults.find((x) => x.remaining > 0 && (x.method === method || x.method === kind));
  if (!f) return null;
  f.remaining--;
  f.hits++;
  if (Number.isFinite(f.remaining) && f.remaining <= 0) state.faults.splice(state.faults.indexOf(f), 1);
  return f;
}
function hold(sock) {
  state.held.add(sock);
  sock.once('close', () => state.held.delete(sock));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// twirp helpers
const TWIRP_CODES = {
  400: 'invalid_argument', 401: 'unauthenticated', 403: 'permission_denied', 404: 'not_found',
  408: 'deadline_exceeded', 409: 'already_exists', 412: 'failed_precondition', 429: 'resource_exhausted',
  500: 'internal', 501: 'unimplemented', 503: 'unavailable', 504: 'deadline_exceeded',
};
function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
  return body;
}
class TwirpError extends Error {
  constructor(status, code, msg) { super(msg); this.status = status; this.code = code; }
}
const twirpErr = (status, msg, code = TWIRP_CODES[status] ?? 'unknown') => new TwirpError(status, code, msg);

/** protojson accepts the proto field name and the lowerCamel JSON name. */
function field(body, snake) {
  if (Object.hasOwn(body, snake)) return body[snake];
  const camel = snake.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
  return body[camel];
}
function str(body, name, required) {
  const v = field(body, name);
  if (v === undefined || v === null) {
    if (required && state.config.validate_keys) throw twirpErr(400, `${name} is required`);
    return '';
  }
  if (typeof v !== 'string') throw twirpErr(400, `${name} must be a string`, 'malformed');
  if (required && !v && state.config.validate_keys) throw twirpErr(400, `${name} is required`);
  return v;
}
function checkKey(k) {
  if (state.config.validate_keys && k.length > 512) throw twirpErr(400, `key is longer than 512 characters: ${k.slice(0, 40)}...`);
}

// ---------------------------------------------------------------------------------------------
// blobs
function blobUrl(blob, perms) {
  const sas = serviceSas(ACCOUNT, ACCOUNT_KEY, CONTAINER, blob, perms, state.config.sas_minutes);
  const path = `${CONTAINER}/${blob}`;
  switch (state.config.blob_mode) {
    case 'proxy': return `http://${HOST}:${listeners.blob.port}/${ACCOUNT}/${path}?${sas}`;
    case 'azure-host': return `http://${ACCOUNT}.blob.core.windows.net:${listeners.blob.port}/${path}?${sas}`;
    default: return `${az.origin}${az.pathname}/${path}?${sas}`;
  }
}
function azRequest(method, pathAndQuery, headers = {}, body = null) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: az.hostname, port: az.port, method, path: `${az.pathname}/${pathAndQuery}`,
      headers: { 'x-ms-version': SAS_VERSION, ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(10000, () => req.destroy(new Error('azurite timeout')));
    req.on('error', reject);
    req.end(body);
  });
}
async function blobSize(blob) {
  const sas = serviceSas(ACCOUNT, ACCOUNT_KEY, CONTAINER, blob, 'r', 5);
  const r = await azRequest('HEAD', `${CONTAINER}/${blob}?${sas}`);
  if (r.status === 404) return null;
  if (r.status !== 200) throw new Error(`Azurite HEAD answered ${r.status}`);
  return Number(r.headers['content-length']);
}
async function createContainer() {
  const sas = accountSas(ACCOUNT, ACCOUNT_KEY, 'racwdl', 10);
  const r = await azRequest('PUT', `${CONTAINER}?restype=container&${sas}`, { 'Content-Length': '0' });
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating container ${CONTAINER}: HTTP ${r.status} ${r.body}`);
}

// ---------------------------------------------------------------------------------------------
// the service
function authenticate(req) {
  const h = req.headers.authorization;
  const m = /^Bearer (.+)$/.exec(h ?? '');
  if (!m) return { status: 'missing' };
  const token = m[1].trim();
  if (state.tokens.has(token)) return { status: 'ok', scopes: state.tokens.get(token) };
  if (state.config.accept_any_token) return { status: 'ok', scopes: scopesFromJwt(token) ?? DEFAULT_SCOPES };
  return { status: 'invalid' };
}
const readScopes = (scopes) =>
  scopes.filter((s) => s.permission & 1).sort((a, b) => b.permission - a.permission); // stable
const writeScope = (scopes) => scopes.find((s) => s.permission & 2);
const keyEq = (a, b) => (state.config.case_insensitive_keys ? a.toLowerCase() === b.toLowerCase() : a === b);
const keyPrefix = (k, p) => (state.config.case_insensitive_keys ? k.toLowerCase().startsWith(p.toLowerCase()) : k.startsWith(p));
const findEntry = (key, version, scope) =>
  state.entries.find((e) => keyEq(e.key, key) && e.version === version && e.scope === scope);

function publicEntry(e) {
  return {
    id: String(e.id), key: e.key, version: e.version, scope: e.scope, state: e.state, blob: e.blob,
    size_bytes: e.size_bytes === undefined ? undefined : String(e.size_bytes),
    blob_size: e.blob_size === undefined ? undefined : String(e.blob_size),
    created_seq: e.created_seq, created_at: e.created_at, finalized_at: e.finalized_at,
    last_accessed_at: e.last_accessed_at, hits: e.hits,
    download_url: e.state === 'finalized' ? blobUrl(e.blob, 'r') : undefined,
  };
}

const handlers = {
  async CreateCacheEntry(body, auth) {
    const key = str(body, 'key', true);
    const version = str(body, 'version', true);
    checkKey(key);
    const w = writeScope(auth.scopes);
    if (!w) return { ok: false, message: 'cache write denied: the runtime token has no writable cache scope' };
    if (findEntry(key, version, w.scope)) throw twirpErr(409, MSG_EXISTS);
    const id = state.nextId++;
    const blob = `${id}-${crypto.createHash('sha256').update(`${w.scope}\n${key}\n${version}`).digest('hex').slice(0, 24)}`;
    state.entries.push({
      id, key, version, scope: w.scope, blob, state: 'pending', created_seq: ++state.seq,
      created_at: new Date().toISOString(), hits: 0,
    });
    return { ok: true, signed_upload_url: blobUrl(blob, state.config.upload_permissions) };
  },

  async FinalizeCacheEntryUpload(body, auth) {
    const key = str(body, 'key', true);
    const version = str(body, 'version', true);
    const raw = field(body, 'size_bytes');
    // protojson: int64 is a JSON string, a number is accepted too
    if (raw !== undefined && !(typeof raw === 'string' && /^\d+$/.test(raw)) && !(Number.isSafeInteger(raw) && raw >= 0)) {
      throw twirpErr(400, `size_bytes must be a non-negative int64 (as a string): ${JSON.stringify(raw)}`, 'malformed');
    }
    const size = raw === undefined ? 0 : Number(raw);
    const w = writeScope(auth.scopes);
    if (!w) return { ok: false, message: 'cache write denied: the runtime token has no writable cache scope' };
    const e = findEntry(key, version, w.scope);
    if (!e) throw twirpErr(404, 'cache entry not found');
    if (e.state === 'finalized') throw twirpErr(409, 'cache entry is already finalized');
    if (state.config.verify_blob) {
      const actual = await blobSize(e.blob);
      if (actual === null) throw twirpErr(412, 'no blob was uploaded for this cache entry');
      e.blob_size = actual;
      if (actual !== size) throw twirpErr(400, `size_bytes ${size} does not match the uploaded blob (${actual} bytes)`);
    }
    e.state = 'finalized';
    e.size_bytes = size;
    e.finalized_at = new Date().toISOString();
    return { ok: true, entry_id: String(e.id) };
  },

  async GetCacheEntryDownloadURL(body, auth) {
    const key = str(body, 'key', true);
    const version = str(body, 'version', true);
    const restore = field(body, 'restore_keys') ?? [];
    if (!Array.isArray(restore) || restore.some((k) => typeof k !== 'string')) {
      throw twirpErr(400, 'restore_keys must be an array of strings', 'malformed');
    }
    const keys = [key, ...restore];
    if (state.config.validate_keys && keys.length > 10) throw twirpErr(400, 'at most 10 keys (key + restore_keys)');
    keys.forEach(checkKey);
    const scopes = readScopes(auth.scopes);
    if (!scopes.length) throw twirpErr(403, 'cache read denied: the runtime token has no readable cache scope');
    // Each scope in turn (current ref first, then base / default branch); in a scope: the key
    // exact, the key as a prefix, then each restore key exact then as a prefix; newest first.
    for (const { scope } of scopes) {
      const cands = state.entries
        .filter((e) => e.state === 'finalized' && e.version === version && e.scope === scope)
        .sort((a, b) => b.created_seq - a.created_seq);
      for (const k of keys) {
        const hit = cands.find((e) => keyEq(e.key, k)) ?? cands.find((e) => keyPrefix(e.key, k));
        if (hit) {
          hit.hits++;
          hit.last_accessed_at = new Date().toISOString();
          return { ok: true, signed_download_url: blobUrl(hit.blob, 'r'), matched_key: hit.key };
        }
      }
    }
    return { ok: false };
  },
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function serviceHandler(req, res) {
  const url = new URL(req.url, 'http://x');
  const method = url.pathname.startsWith(TWIRP_PREFIX) ? url.pathname.slice(TWIRP_PREFIX.length) : null;
  const raw = await readBody(req).catch(() => '');
  const auth = authenticate(req);
  const entry = record({
    kind: 'twirp', method: method ?? url.pathname, http_method: req.method, path: req.url,
    headers: {
      'content-type': req.headers['content-type'], 'user-agent': req.headers['user-agent'],
      authorization: req.headers.authorization === undefined ? undefined : `Bearer <${auth.status}>`,
    },
    auth: auth.status, body_raw: raw,
  });
  const reply = (status, obj, headers) => {
    entry.status = status;
    entry.response = obj;
    sendJson(res, status, obj, headers);
  };
  const fail = (status, code, msg, headers) => reply(status, { code, msg }, headers);

  // twirp routing: POST only, known method, JSON only
  if (req.method !== 'POST' || !method || !METHODS.includes(method)) {
    return fail(404, 'bad_route', `no handler for path "${url.pathname}" (${req.method})`);
  }
  const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (ct !== 'application/json') {
    return fail(404, 'bad_route', `unexpected Content-Type: "${req.headers['content-type'] ?? ''}" (the double speaks JSON only)`);
  }
  if (auth.status !== 'ok') {
    return fail(401, 'unauthenticated', auth.status === 'missing' ? 'missing bearer token' : 'invalid bearer token');
  }
  let body;
  try {
    body = JSON.parse(raw);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
  } catch (e) {
    return fail(400, 'malformed', `the json request could not be decoded: ${e.message}`);
  }
  entry.body = body;

  const f = takeFault(method);
  if (f) {
    entry.fault = f.action + (f.status ? ` ${f.status}` : '');
    switch (f.action) {
      case 'status': {
        const headers = {};
        if (f.retry_after !== undefined && f.retry_after !== null) headers['Retry-After'] = String(f.retry_after);
        if (f.body !== undefined) {
          entry.status = f.status;
          const b = typeof f.body === 'string' ? f.body : JSON.stringify(f.body);
          res.writeHead(f.status, { 'Content-Type': f.content_type ?? 'application/json', 'Content-Length': Buffer.byteLength(b), ...headers });
          return res.end(b);
        }
        const msg = f.msg ?? (f.status === 409 ? MSG_EXISTS : `injected fault: HTTP ${f.status}`);
        return fail(f.status, f.code ?? TWIRP_CODES[f.status] ?? 'unknown', msg, headers);
      }
      case 'ok_false':
        return reply(200, f.message === undefined ? { ok: false } : { ok: false, message: f.message });
      case 'hang':
        entry.status = 'hang';
        return hold(req.socket);
      case 'close':
      case 'truncate':
      case 'stall':
        entry.status = 'closed';
        return req.socket.destroy();
      case 'delay':
        await sleep(Number(f.delay_ms ?? 1000));
        break;
    }
  }
  try {
    return reply(200, await handlers[method](body, auth));
  } catch (e) {
    if (e instanceof TwirpError) return fail(e.status, e.code, e.message);
    console.error('cache-service:', e);
    return fail(500, 'internal', String(e.message ?? e));
  }
}

// ---------------------------------------------------------------------------------------------
// blob proxy (to Azurite): logging, concurrency stats, faults on blob transfers
function blobOp(method, q) {
  const comp = q.get('comp');
  if (method === 'PUT') return comp === 'block' ? 'PutBlock' : comp === 'blocklist' ? 'PutBlockList' : comp ? `Put_${comp}` : 'PutBlob';
  if (method === 'GET') return comp === 'blocklist' ? 'GetBlockList' : comp ? `Get_${comp}` : 'GetBlob';
  if (method === 'HEAD') return 'GetBlobProperties';
  if (method === 'DELETE') return 'DeleteBlob';
  return method;
}
function azureError(res, status, code, message, headers = {}) {
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'x-ms-error-code': code, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
function blobHandler(req, res) {
  const host = req.headers.host ?? '';
  let path = req.url;
  // azure-host mode: http://<account>.blob.core.windows.net:PORT/<container>/<blob> -> path style
  if (/^[^.:]+\.blob\./i.test(host)) path = `/${host.split('.')[0]}${path}`;
  const url = new URL(path, 'http://x');
  const op = blobOp(req.method, url.searchParams);
  const stats = state.blobStats;
  const opStats = (stats.by_op[op] ??= { count: 0, bytes_in: 0, bytes_out: 0, in_flight: 0, max_in_flight: 0 });
  opStats.count++;
  stats.in_flight++;
  opStats.in_flight++;
  stats.max_in_flight = Math.max(stats.max_in_flight, stats.in_flight);
  opStats.max_in_flight = Math.max(opStats.max_in_flight, opStats.in_flight);
  const t0 = Date.now();
  const entry = record({
    kind: 'blob', method: `blob.${op}`, http_method: req.method, host,
    path: url.pathname, query: url.search.replace(/([?&]sig=)[^&]*/, '$1<redacted>'),
    range: req.headers['x-ms-range'] ?? req.headers.range, content_length: req.headers['content-length'],
    user_agent: req.headers['user-agent'], in_flight_at_start: stats.in_flight, bytes_in: 0, bytes_out: 0,
  });
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    stats.in_flight--;
    opStats.in_flight--;
    entry.ms = Date.now() - t0;
  };
  res.on('close', finish);
  req.on('data', (c) => { entry.bytes_in += c.length; opStats.bytes_in += c.length; });

  const f = takeFault(`blob.${op}`);
  if (f) entry.fault = f.action + (f.status ? ` ${f.status}` : '');
  const forward = () => {
    const up = http.request({
      host: az.hostname, port: az.port, method: req.method, path,
      headers: { ...req.headers, host: `${az.hostname}:${az.port}` },
    });
    res.on('close', () => up.destroy());
    up.on('response', (ur) => {
      res.on('close', () => ur.destroy());
      entry.status = ur.statusCode;
      res.writeHead(ur.statusCode, ur.headers);
      const limit = f && (f.action === 'truncate' || f.action === 'stall') ? Number(f.after_bytes ?? 0) : Infinity;
      let sent = 0;
      const cut = () => {
        if (f.action === 'truncate') { entry.status = `${ur.statusCode} truncated`; res.socket?.destroy(); ur.destroy(); }
        else { entry.status = `${ur.statusCode} stalled`; ur.pause(); hold(res.socket); }
      };
      if (limit === 0) { res.flushHeaders(); return cut(); }
      ur.on('data', (c) => {
        if (sent >= limit) return;
        let chunk = c;
        if (sent + c.length >= limit) chunk = c.subarray(0, limit - sent);
        sent += chunk.length;
        entry.bytes_out += chunk.length;
        opStats.bytes_out += chunk.length;
        res.write(chunk);
        if (sent >= limit) cut();
      });
      ur.on('end', () => { if (sent < limit) res.end(); });
    });
    up.on('error', (e) => {
      entry.status = `upstream error ${e.code ?? e.message}`;
      if (!res.headersSent) azureError(res, 502, 'ProxyError', `Azurite: ${e.message}`);
      else res.destroy();
    });
    req.pipe(up);
  };

  if (!f || f.action === 'truncate' || f.action === 'stall') return forward();
  switch (f.action) {
    case 'status':
      req.resume();
      req.on('end', () => {
        entry.status = f.status;
        const headers = f.retry_after !== undefined ? { 'Retry-After': String(f.retry_after) } : {};
        if (f.body !== undefined) {
          const b = typeof f.body === 'string' ? f.body : JSON.stringify(f.body);
          res.writeHead(f.status, { 'Content-Type': f.content_type ?? 'application/xml', 'Content-Length': Buffer.byteLength(b), ...headers });
          return res.end(b);
        }
        azureError(res, f.status, f.code ?? (f.status === 503 ? 'ServerBusy' : f.status >= 500 ? 'InternalError' : 'InjectedFault'),
          f.msg ?? `injected fault: HTTP ${f.status}`, headers);
      });
      return;
    case 'hang':
      entry.status = 'hang';
      return hold(req.socket);
    case 'close':
      entry.status = 'closed';
      return req.socket.destroy();
    case 'delay':
      return void sleep(Number(f.delay_ms ?? 1000)).then(forward);
    default: // ok_false makes no sense for blobs: pass through
      return forward();
  }
}

// ---------------------------------------------------------------------------------------------
// listeners with modes: up | refuse (port closed) | drop (SYNs dropped: connect never completes)
// | hang (accepts, never answers) | reset (accepts, then RST)
class Listener {
  constructor(name, handler) {
    this.name = name;
    this.handler = handler;
    this.port = 0;
    this.mode = 'down';
    this.server = null;
    this.sockets = new Set();
    this.child = null;
    this.fillers = [];
    this.accepted = 0;
  }
  listen(server, backlog) {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: HOST, port: this.port, backlog }, () => {
        server.off('error', reject);
        this.port = server.address().port;
        resolve();
      });
    });
  }
  async teardown() {
    const s = this.server;
    this.server = null;
    if (s) {
      const closed = new Promise((r) => s.close(r));
      s.closeAllConnections?.();
      for (const sock of this.sockets) sock.destroy();
      this.sockets.clear();
      await closed;
    }
    for (const f of this.fillers) f.destroy();
    this.fillers = [];
    if (this.child) {
      const c = this.child;
      this.child = null;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }
  }
  track(sock) {
    this.accepted++;
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
  }
  async setMode(mode) {
    if (!MODES.includes(mode)) throw new Error(`mode must be one of ${MODES.join(', ')}`);
    await this.teardown();
    this.mode = mode;
    if (mode === 'refuse') return;
    if (mode === 'up') {
      const s = http.createServer((req, res) => {
        Promise.resolve(this.handler(req, res)).catch((e) => {
          console.error(`cache-service (${this.name}):`, e);
          if (!res.headersSent) sendJson(res, 500, { code: 'internal', msg: String(e) });
        });
      });
      s.keepAliveTimeout = 30000;
      s.on('connection', (sock) => this.track(sock));
      this.server = s;
      return this.listen(s);
    }
    if (mode === 'hang' || mode === 'reset') {
      const s = net.createServer((sock) => {
        this.track(sock);
        if (mode === 'reset') sock.resetAndDestroy();
      });
      this.server = s;
      return this.listen(s);
    }
    // drop: a listening socket nobody accepts on, with a full accept queue, so the kernel drops
    // new SYNs and clients see a connect timeout (like a firewall). A child process holds the
    // socket (node would accept on it); it exits when our stdin pipe closes, i.e. with us.
    const s = net.createServer();
    await this.listen(s, 1);
    this.child = spawn(process.execPath, ['-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'],
      { stdio: ['pipe', 'ignore', 'ignore', s._handle.fd] });
    s.close(); // same tick: node never accepted on it
    for (let i = 0; i < 2; i++) {
      const c = net.connect(this.port, HOST);
      c.on('error', () => {});
      this.fillers.push(c);
    }
    await Promise.all(this.fillers.map((c) => new Promise((r) => { c.once('connect', r); c.once('error', r); setTimeout(r, 500); })));
  }
}

const listeners = {
  service: new Listener('service', serviceHandler),
  control: new Listener('control', controlHandler),
  blob: new Listener('blob', blobHandler),
};
listeners.service.port = Number(opt('port', 'CACHEKIT_GHA_PORT', 0));
listeners.control.port = Number(opt('control-port', 'CACHEKIT_GHA_CONTROL_PORT', 0));
listeners.blob.port = Number(opt('blob-port', 'CACHEKIT_GHA_BLOB_PORT', 0));

// ---------------------------------------------------------------------------------------------
// control API
function info() {
  return {
    ACTIONS_RESULTS_URL: `http://${HOST}:${listeners.service.port}/`,
    ACTIONS_RUNTIME_TOKEN: DEFAULT_TOKEN,
    ACTIONS_CACHE_SERVICE_V2: '1',
    CACHEKIT_GHA_CONTROL_URL: `http://${HOST}:${listeners.control.port}/`,
    CACHEKIT_GHA_BLOB_PROXY_URL: `http://${HOST}:${listeners.blob.port}/`,
    CACHEKIT_GHA_CONTAINER: CONTAINER,
    CACHEKIT_GHA_AZURITE_ENDPOINT: `${az.origin}${az.pathname}`,
    CACHEKIT_GHA_SERVICE_PID: String(process.pid),
  };
}
const modes = () => Object.fromEntries(Object.entries(listeners).map(([k, l]) => [k, l.mode]));
async function reset() {
  state.entries = [];
  state.faults = [];
  state.log = [];
  state.config = { ...BASE_CONFIG };
  state.tokens = new Map([[DEFAULT_TOKEN, DEFAULT_SCOPES]]);
  state.blobStats = { in_flight: 0, max_in_flight: 0, by_op: {} };
  for (const s of state.held) s.destroy();
  for (const name of ['service', 'blob']) if (listeners[name].mode !== 'up') await listeners[name].setMode('up');
}

async function controlHandler(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname.replace(/\/+$/, '') || '/';
  const raw = await readBody(req);
  let body = {};
  if (raw.trim()) {
    try { body = JSON.parse(raw); } catch (e) { return sendJson(res, 400, { error: `bad JSON: ${e.message}` }); }
  }
  const M = req.method;
  try {
    if (p === '/' || p === '/info') return sendJson(res, 200, { ...info(), modes: modes(), config: state.config });
    if (p === '/health') return sendJson(res, 200, { ok: true });
    if (p === '/reset' && M === 'POST') { await reset(); return sendJson(res, 200, { ok: true }); }
    if (p === '/entries' && M === 'GET') {
      let list = state.entries.map(publicEntry);
      for (const k of ['key', 'version', 'scope', 'state']) {
        const v = url.searchParams.get(k);
        if (v !== null) list = list.filter((e) => e[k] === v);
      }
      return sendJson(res, 200, { entries: list });
    }
    if (p === '/entries' && M === 'DELETE') { const n = state.entries.length; state.entries = []; return sendJson(res, 200, { deleted: n }); }
    const em = /^\/entries\/(\d+)$/.exec(p);
    if (em) {
      const i = state.entries.findIndex((e) => String(e.id) === em[1]);
      if (i < 0) return sendJson(res, 404, { error: 'no such entry' });
      if (M === 'GET') return sendJson(res, 200, publicEntry(state.entries[i]));
      if (M === 'DELETE') { state.entries.splice(i, 1); return sendJson(res, 200, { deleted: 1 }); }
    }
    if (p === '/requests' && M === 'GET') {
      let list = state.log;
      const kind = url.searchParams.get('kind');
      const method = url.searchParams.get('method');
      const since = Number(url.searchParams.get('since') ?? 0);
      if (kind) list = list.filter((e) => e.kind === kind);
      if (method) list = list.filter((e) => e.method === method);
      if (since) list = list.filter((e) => e.seq > since);
      return sendJson(res, 200, { requests: list, last_seq: state.logSeq });
    }
    if (p === '/requests' && M === 'DELETE') { state.log = []; return sendJson(res, 200, { ok: true }); }
    if (p === '/faults' && M === 'GET') return sendJson(res, 200, { faults: state.faults });
    if (p === '/faults' && M === 'POST') {
      const list = (Array.isArray(body) ? body : [body]).map(addFault);
      return sendJson(res, 200, { faults: list });
    }
    if (p === '/faults' && M === 'DELETE') {
      state.faults = [];
      for (const s of state.held) s.destroy();
      return sendJson(res, 200, { ok: true });
    }
    if (p === '/mode' && M === 'GET') return sendJson(res, 200, modes());
    if (p === '/mode' && M === 'POST') {
      for (const [name, mode] of Object.entries(body)) {
        if (!['service', 'blob'].includes(name)) throw new Error(`no listener "${name}" (service, blob)`);
        if (!MODES.includes(mode)) throw new Error(`mode must be one of ${MODES.join(', ')}`);
      }
      for (const [name, mode] of Object.entries(body)) await listeners[name].setMode(mode);
      return sendJson(res, 200, modes());
    }
    if (p === '/config' && M === 'GET') return sendJson(res, 200, state.config);
    if (p === '/config' && M === 'POST') {
      for (const [k, v] of Object.entries(body)) {
        if (!(k in DEFAULT_CONFIG)) throw new Error(`unknown config key ${k}`);
        if (typeof v !== typeof DEFAULT_CONFIG[k]) throw new Error(`config ${k} must be a ${typeof DEFAULT_CONFIG[k]}`);
        if (k === 'blob_mode' && !BLOB_MODES.includes(v)) throw new Error(`blob_mode must be one of ${BLOB_MODES.join(', ')}`);
      }
      Object.assign(state.config, body);
      return sendJson(res, 200, state.config);
    }
    if (p === '/tokens' && M === 'POST') {
      const scopes = normScopes(body.scopes);
      const token = body.token ?? mintToken(scopes);
      state.tokens.set(token, scopes);
      return sendJson(res, 200, { token, scopes });
    }
    if (p === '/stats' && M === 'GET') {
      return sendJson(res, 200, {
        blob: state.blobStats,
        connections: Object.fromEntries(Object.entries(listeners).map(([k, l]) => [k, { mode: l.mode, accepted: l.accepted }])),
        entries: state.entries.length, requests_logged: state.log.length,
      });
    }
    return sendJson(res, 404, { error: `no control endpoint ${M} ${p}` });
  } catch (e) {
    return sendJson(res, 400, { error: String(e.message ?? e) });
  }
}

// ---------------------------------------------------------------------------------------------
async function main() {
  await createContainer();
  await listeners.control.setMode('up');
  await listeners.blob.setMode('up');
  await listeners.service.setMode('up');
  const initialFaults = opt('faults', 'CACHEKIT_GHA_FAULTS', '');
  if (initialFaults) for (const f of [JSON.parse(initialFaults)].flat()) addFault(f);
  const serviceMode = opt('service-mode', 'CACHEKIT_GHA_SERVICE_MODE', 'up');
  if (serviceMode !== 'up') await listeners.service.setMode(serviceMode);
  const lines = Object.entries(info()).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
  if (READY_FILE) {
    fs.writeFileSync(`${READY_FILE}.tmp`, lines);
    fs.renameSync(`${READY_FILE}.tmp`, READY_FILE);
  }
  process.stdout.write(lines);
  console.error(`cache-service: ready (service ${listeners.service.port}, control ${listeners.control.port}, blob proxy ${listeners.blob.port})`);
}
let stopping = false;
async function shutdown(sig) {
  if (stopping) return;
  stopping = true;
  console.error(`cache-service: ${sig}, stopping`);
  for (const s of state.held) s.destroy();
  const t = setTimeout(() => process.exit(0), 2000);
  t.unref();
  await Promise.all(Object.values(listeners).map((l) => l.teardown().catch(() => {})));
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
main().catch((e) => {
  console.error('cache-service: failed to start:', e.message ?? e);
  process.exit(1);
});
