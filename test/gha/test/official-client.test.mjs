// The official client (@actions/cache 6.3.0, via official-client.mjs) against the double +
// Azurite: what cachekit's github backend must interoperate with.
import { test, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { control, runClient, tmpdir, makeTree, snapshot, twirp } from './helpers.mjs';

const uniq = (t) => `${t}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

before(async () => { await control('POST', 'reset'); });
afterEach(async () => {
  await control('DELETE', 'faults');
  await control('POST', 'mode', { service: 'up', blob: 'up' });
  await control('POST', 'config', { blob_mode: 'direct' });
});

test('version subcommand: the documented hash of paths|zstd-without-long|1.0', async () => {
  const r = await runClient(['version', '~/go/pkg/mod', 'x y']);
  assert.equal(r.code, 0, r.stderr);
  const want = crypto.createHash('sha256').update('~/go/pkg/mod|x y|zstd-without-long|1.0').digest('hex');
  assert.equal(r.out.version, want);
  assert.equal(r.out.compression, 'zstd-without-long');
});

test('save then restore a directory: byte-identical tree', async () => {
  const ws = tmpdir();
  makeTree(path.join(ws, 'data'), 'roundtrip');
  const before = snapshot(path.join(ws, 'data'));
  const key = uniq('Linux-X64-roundtrip');
  await control('DELETE', 'requests');
  const s = await runClient(['save', '--workspace', ws, key, 'data']);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.out.saved, true);
  assert.ok(s.out.cache_id > 2 ** 32);
  // what the client sent, byte for byte (field order = proto field numbers, int64 as a string)
  const log = (await control('GET', 'requests?kind=twirp')).requests;
  assert.deepEqual(log.map((e) => e.method), ['CreateCacheEntry', 'FinalizeCacheEntryUpload']);
  assert.equal(log[0].body_raw, JSON.stringify({ key, version: s.out.version }));
  assert.match(log[1].body_raw, new RegExp(`^\\{"key":"${key}","size_bytes":"\\d+","version":"${s.out.version}"\\}$`));
  assert.equal(log[0].headers['user-agent'], '@actions/cache-6.3.0');
  const [entry] = (await control('GET', `entries?key=${key}`)).entries;
  assert.equal(entry.state, 'finalized');
  assert.equal(entry.size_bytes, entry.blob_size);
  assert.equal(entry.id, String(s.out.cache_id));

  fs.renameSync(path.join(ws, 'data'), path.join(ws, 'data.orig'));
  const r = await runClient(['restore', '--workspace', ws, key, 'data']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.out, {
    command: 'restore', key, restore_keys: [], paths: ['data'], version: s.out.version, lookup_only: false,
    matched_key: key, hit: true, exact: true,
  });
  assert.match(r.stderr, /Cache restored successfully/);
  assert.deepEqual(snapshot(path.join(ws, 'data')), before);
  fs.rmSync(ws, { recursive: true, force: true });
});

test('restore-keys: prefix match, newest first; a lookup-only restore downloads nothing', async () => {
  const ws = tmpdir();
  const p = uniq('Linux-X64-cache-go-v1');
  for (const n of ['old', 'new']) {
    fs.mkdirSync(path.join(ws, 'd'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'd/which'), n);
    const s = await runClient(['save', '--workspace', ws, `${p}-${n}`, 'd']);
    assert.equal(s.code, 0, s.stderr);
  }
  fs.rmSync(path.join(ws, 'd'), { recursive: true });
  const r = await runClient(['restore', '--workspace', ws, `${p}-missing`, '--restore-keys', `${uniq('nothing')},${p}-`, 'd']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.out.matched_key, `${p}-new`);
  assert.equal(r.out.exact, false);
  assert.match(r.stderr, new RegExp(`Cache hit for restore-key: ${p}-new`));
  assert.equal(fs.readFileSync(path.join(ws, 'd/which'), 'utf8'), 'new');
  fs.rmSync(path.join(ws, 'd'), { recursive: true });
  const l = await runClient(['restore', '--workspace', ws, `${p}-old`, '--lookup-only', 'd']);
  assert.equal(l.out.matched_key, `${p}-old`);
  assert.equal(fs.existsSync(path.join(ws, 'd')), false);
  // other paths = other version = miss
  const m = await runClient(['restore', '--workspace', ws, `${p}-old`, 'd', 'e']);
  assert.equal(m.code, 3);
  assert.equal(m.out.hit, false);
  fs.rmSync(ws, { recursive: true, force: true });
});

test('a second save of the same key+version gets 409 and is not an error', async () => {
  const ws = tmpdir();
  fs.mkdirSync(path.join(ws, 'd'));
  fs.writeFileSync(path.join(ws, 'd/f'), 'x');
  const key = uniq('dup');
  assert.equal((await runClient(['save', '--workspace', ws, key, 'd'])).code, 0);
  const again = await runClient(['save', '--workspace', ws, key, 'd']);
  assert.equal(again.code, 3);
  assert.equal(again.out.cache_id, -1);
  assert.match(again.stderr, /Failed to save: Unable to reserve cache with key .*another job may be creating this cache/);
  const last = (await control('GET', 'requests?method=CreateCacheEntry')).requests.pop();
  assert.equal(last.status, 409);
  fs.rmSync(ws, { recursive: true, force: true });
});

test('429 from CreateCacheEntry: rate-limit warning, no retry, save skipped', async () => {
  const ws = tmpdir();
  fs.mkdirSync(path.join(ws, 'd'));
  fs.writeFileSync(path.join(ws, 'd/f'), 'x');
  await control('POST', 'faults', { method: 'CreateCacheEntry', status: 429, retry_after: 30 });
  const r = await runClient(['save', '--workspace', ws, uniq('rl'), 'd']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /::warning::You've hit a rate limit, your rate limit will reset in 30 seconds/);
  assert.ok(r.ms < 10000);
  assert.equal((await control('GET', 'faults')).faults.length, 0);
  fs.rmSync(ws, { recursive: true, force: true });
});

test('the official client without a token, or with a wrong one, gets 401 and a warning, not a crash', async () => {
  const ws = tmpdir();
  fs.mkdirSync(path.join(ws, 'd'));
  const r = await runClient(['restore', '--workspace', ws, 'k', 'd'], { env: { ACTIONS_RUNTIME_TOKEN: 'wrong' } });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /Failed to restore: .*\(401\) Unauthorized: invalid bearer token/);
  const none = await runClient(['restore', '--workspace', ws, 'k', 'd'], { env: { ACTIONS_RUNTIME_TOKEN: '' } });
  assert.equal(none.code, 2); // the driver refuses to run without one
  fs.rmSync(ws, { recursive: true, force: true });
});

test('service refusing connections: the official client fails fast (NetworkError) and reports a miss', async () => {
  const ws = tmpdir();
  fs.mkdirSync(path.join(ws, 'd'));
  await control('POST', 'mode', { service: 'refuse' });
  const r = await runClient(['restore', '--workspace', ws, 'k', 'd']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.out.hit, false);
  assert.match(r.stderr, /ECONNREFUSED/);
  assert.ok(r.ms < 5000, `took ${r.ms} ms`);
  fs.rmSync(ws, { recursive: true, force: true });
});

test('blob_mode azure-host: the client takes its Azure SDK path (HEAD + parallel 4 MiB ranged GETs) via the proxy', async () => {
  await control('POST', 'config', { blob_mode: 'azure-host' });
  await control('DELETE', 'requests');
  const ws = tmpdir();
  fs.mkdirSync(path.join(ws, 'd'));
  fs.writeFileSync(path.join(ws, 'd/big'), crypto.randomBytes(10 * 1024 * 1024)); // incompressible
  const key = uniq('sdk');
  const s = await runClient(['save', '--workspace', ws, key, 'd']);
  assert.equal(s.code, 0, s.stderr);
  const want = snapshot(path.join(ws, 'd'));
  fs.rmSync(path.join(ws, 'd'), { recursive: true });
  const r = await runClient(['restore', '--workspace', ws, key, 'd']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(path.join(ws, 'd')), want);
  const blob = (await control('GET', 'requests?kind=blob')).requests;
  assert.ok(blob.every((e) => e.host.startsWith('devstoreaccount1.blob.core.windows.net:')));
  assert.deepEqual(blob.slice(0, 2).map((e) => e.method), ['blob.PutBlob', 'blob.GetBlobProperties']);
  const gets = blob.filter((e) => e.method === 'blob.GetBlob');
  assert.equal(gets.length, 3);
  assert.deepEqual(gets.map((e) => e.range).sort(), ['bytes=0-4194303', 'bytes=4194304-8388607', `bytes=8388608-${gets[0].bytes_out + gets[1].bytes_out + gets[2].bytes_out - 1}`].sort());
  const stats = await control('GET', 'stats');
  assert.ok(stats.blob.by_op.GetBlob.max_in_flight >= 2, 'parallel ranged GETs');
  fs.rmSync(ws, { recursive: true, force: true });
});

test('an entry written over the raw protocol with a tar.zst made here is restored by the official client', async () => {
  // the shape of cachekit's direction: any writer that makes the same archive + version interoperates
  const ws = tmpdir();
  fs.mkdirSync(path.join(ws, 'd'));
  fs.writeFileSync(path.join(ws, 'd/hello'), 'from another writer\n');
  const { execFileSync } = await import('node:child_process');
  fs.writeFileSync(path.join(ws, 'manifest.txt'), 'd');
  execFileSync('tar', ['--posix', '-cf', path.join(ws, 'cache.tzst'), '-P', '-C', ws, '--files-from', path.join(ws, 'manifest.txt'), '--use-compress-program', 'zstdmt']);
  const version = (await runClient(['version', 'd'])).out.version;
  const key = uniq('foreign');
  const c = await twirp('CreateCacheEntry', { key, version });
  const archive = fs.readFileSync(path.join(ws, 'cache.tzst'));
  const { request } = await import('./helpers.mjs');
  assert.equal((await request('PUT', c.json.signed_upload_url, { body: archive, headers: { 'x-ms-blob-type': 'BlockBlob' } })).status, 201);
  assert.equal((await twirp('FinalizeCacheEntryUpload', { key, version, size_bytes: String(archive.length) })).status, 200);
  fs.rmSync(path.join(ws, 'd'), { recursive: true });
  const r = await runClient(['restore', '--workspace', ws, key, 'd']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(ws, 'd/hello'), 'utf8'), 'from another writer\n');
  fs.rmSync(ws, { recursive: true, force: true });
});
