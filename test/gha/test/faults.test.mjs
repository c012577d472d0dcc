// Fault injection and unreachable modes: the double returns exactly what was asked, for exactly
// the next N calls of the named method, and an "unreachable" service fails a client fast when the
// client uses a short timeout.
import { test, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { twirp, control, putEntry, request, env } from './helpers.mjs';

const V = 'f'.repeat(64);
const uniq = (t) => `${t}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

before(async () => { await control('POST', 'reset'); });
afterEach(async () => {
  await control('DELETE', 'faults');
  await control('POST', 'mode', { service: 'up', blob: 'up' });
  await control('POST', 'config', { blob_mode: 'direct' });
});

test('status faults: 429 (Retry-After), 500, 503, 409 with twirp bodies, for the next N calls only', async () => {
  await control('POST', 'faults', [
    { method: 'CreateCacheEntry', status: 429, count: 2 },
    { method: 'CreateCacheEntry', status: 500 },
    { method: 'CreateCacheEntry', status: 409 },
    { method: 'CreateCacheEntry', status: 503, retry_after: 7, msg: 'go away' },
  ]);
  const key = uniq('st');
  const got = [];
  for (let i = 0; i < 6; i++) got.push(await twirp('CreateCacheEntry', { key, version: V }));
  assert.deepEqual(got.map((r) => r.status), [429, 429, 500, 409, 503, 200]);
  assert.equal(got[0].headers['retry-after'], '60');
  assert.deepEqual(got[0].json, { code: 'resource_exhausted', msg: 'injected fault: HTTP 429' });
  assert.equal(got[2].json.code, 'internal');
  assert.deepEqual(got[3].json, { code: 'already_exists', msg: 'cache entry with the same key, version, and scope already exists' });
  assert.equal(got[4].headers['retry-after'], '7');
  assert.deepEqual(got[4].json, { code: 'unavailable', msg: 'go away' });
  assert.equal(got[5].json.ok, true);
  assert.deepEqual((await control('GET', 'faults')).faults, []);
  const log = (await control('GET', 'requests?method=CreateCacheEntry')).requests.slice(-6);
  assert.deepEqual(log.map((e) => e.fault ?? null), ['status 429', 'status 429', 'status 500', 'status 409', 'status 503', null]);
});

test('faults are per method; "*" matches every twirp method; count -1 = until cleared', async () => {
  await control('POST', 'faults', { method: 'FinalizeCacheEntryUpload', status: 500 });
  const key = uniq('per');
  assert.equal((await twirp('CreateCacheEntry', { key, version: V })).status, 200);
  assert.equal((await twirp('GetCacheEntryDownloadURL', { key, version: V })).status, 200);
  assert.equal((await twirp('FinalizeCacheEntryUpload', { key, version: V, size_bytes: '0' })).status, 500);
  await control('POST', 'faults', { method: '*', status: 502, count: -1 });
  for (const m of ['CreateCacheEntry', 'GetCacheEntryDownloadURL', 'FinalizeCacheEntryUpload', 'GetCacheEntryDownloadURL']) {
    assert.equal((await twirp(m, { key, version: V })).status, 502);
  }
  assert.equal((await control('GET', 'faults')).faults[0].hits, 4);
  await control('DELETE', 'faults');
  assert.equal((await twirp('GetCacheEntryDownloadURL', { key, version: V })).status, 200);
});

test('ok_false, raw bodies, delay', async () => {
  await control('POST', 'faults', [
    { method: 'GetCacheEntryDownloadURL', action: 'ok_false' },
    { method: 'CreateCacheEntry', action: 'ok_false', message: 'cache write denied: policy' },
    { method: 'CreateCacheEntry', status: 500, body: '<html>bad gateway</html>', content_type: 'text/html' },
    { method: 'GetCacheEntryDownloadURL', action: 'delay', delay_ms: 400 },
  ]);
  const denied = await twirp('CreateCacheEntry', { key: uniq('ok'), version: V });
  assert.equal(denied.status, 200);
  assert.deepEqual(denied.json, { ok: false, message: 'cache write denied: policy' });
  const c = await twirp('CreateCacheEntry', { key: uniq('x'), version: V });
  assert.equal(c.status, 500);
  assert.equal(c.text, '<html>bad gateway</html>');
  assert.equal(c.headers['content-type'], 'text/html');
  const k2 = uniq('ok2');
  await putEntry(k2, V);
  const miss = await twirp('GetCacheEntryDownloadURL', { key: k2, version: V });
  assert.deepEqual(miss.json, { ok: false });
  const t0 = Date.now();
  const slow = await twirp('GetCacheEntryDownloadURL', { key: k2, version: V });
  assert.ok(Date.now() - t0 >= 380, 'delayed');
  assert.equal(slow.json.matched_key, k2);
});

test('hang and close faults: a short client timeout fires, a closed connection errors', async () => {
  await control('POST', 'faults', [
    { method: 'GetCacheEntryDownloadURL', action: 'hang' },
    { method: 'GetCacheEntryDownloadURL', action: 'close' },
  ]);
  const t0 = Date.now();
  await assert.rejects(twirp('GetCacheEntryDownloadURL', { key: 'k', version: V }, { timeoutMs: 500 }),
    (e) => e.code === 'TIMEOUT' && e.connected === true);
  assert.ok(Date.now() - t0 < 2000);
  await assert.rejects(twirp('GetCacheEntryDownloadURL', { key: 'k', version: V }, { timeoutMs: 2000 }),
    (e) => e.code === 'ECONNRESET' || /socket hang up/.test(e.message));
  assert.equal((await twirp('GetCacheEntryDownloadURL', { key: 'k', version: V })).status, 200);
});

test('unreachable service modes fail a short-timeout client fast; "up" restores the same port', async () => {
  const url = env().resultsUrl;
  const timeoutMs = 700;
  const expect = {
    refuse: (e) => e.code === 'ECONNREFUSED',                       // port closed
    drop: (e) => e.code === 'TIMEOUT' && e.connected === false,     // SYN dropped: connect timeout
    hang: (e) => e.code === 'TIMEOUT' && e.connected === true,      // connects, never answers
    reset: (e) => e.code === 'ECONNRESET' || /socket hang up/.test(e.message),
  };
  for (const [mode, check] of Object.entries(expect)) {
    assert.deepEqual(await control('POST', 'mode', { service: mode }), { service: mode, control: 'up', blob: 'up' });
    const t0 = Date.now();
    await assert.rejects(twirp('GetCacheEntryDownloadURL', { key: 'k', version: V }, { timeoutMs }), (e) => {
      assert.ok(check(e), `${mode}: got ${e.code} ${e.message} connected=${e.connected}`);
      return true;
    });
    const ms = Date.now() - t0;
    assert.ok(ms < timeoutMs + 1000, `${mode} took ${ms} ms`);
    // the control API stays reachable
    assert.equal((await control('GET', 'health')).ok, true);
  }
  await control('POST', 'mode', { service: 'up' });
  assert.equal(env().resultsUrl, url);
  assert.equal((await twirp('GetCacheEntryDownloadURL', { key: 'k', version: V })).status, 200);
});

test('blob faults through the proxy (blob_mode proxy): 500 on PutBlob, truncated and stalled downloads', async () => {
  await control('POST', 'config', { blob_mode: 'proxy' });
  const proxy = new URL(process.env.CACHEKIT_GHA_BLOB_PROXY_URL);
  const key = uniq('blob');
  const c = await twirp('CreateCacheEntry', { key, version: V });
  assert.equal(new URL(c.json.signed_upload_url).port, proxy.port);
  await control('POST', 'faults', { method: 'blob.PutBlob', status: 500 });
  const body = Buffer.alloc(100000, 7);
  const p1 = await request('PUT', c.json.signed_upload_url, { body, headers: { 'x-ms-blob-type': 'BlockBlob' } });
  assert.equal(p1.status, 500);
  assert.equal(p1.headers['x-ms-error-code'], 'InternalError');
  assert.match(p1.text, /<Code>InternalError<\/Code>/);
  const p2 = await request('PUT', c.json.signed_upload_url, { body, headers: { 'x-ms-blob-type': 'BlockBlob' } });
  assert.equal(p2.status, 201);
  assert.equal((await twirp('FinalizeCacheEntryUpload', { key, version: V, size_bytes: String(body.length) })).status, 200);
  const url = (await twirp('GetCacheEntryDownloadURL', { key, version: V })).json.signed_download_url;
  await control('POST', 'faults', [
    { method: 'blob.GetBlob', action: 'truncate', after_bytes: 1000 },
    { method: 'blob.GetBlob', action: 'stall', after_bytes: 1000 },
  ]);
  await assert.rejects(request('GET', url), (e) => /aborted|ECONNRESET|socket hang up/.test(`${e.code} ${e.message}`));
  await assert.rejects(request('GET', url, { timeoutMs: 600 }), (e) => e.code === 'TIMEOUT' && e.connected);
  const ok = await request('GET', url, { headers: { 'x-ms-range': 'bytes=10-19' } });
  assert.equal(ok.status, 206);
  assert.equal(ok.buf.length, 10);
  const log = (await control('GET', 'requests?kind=blob')).requests;
  assert.deepEqual(log.map((e) => `${e.method} ${e.status}`),
    ['blob.PutBlob 500', 'blob.PutBlob 201', 'blob.GetBlob 200 truncated', 'blob.GetBlob 200 stalled', 'blob.GetBlob 206']);
  assert.equal(log[4].range, 'bytes=10-19');
  assert.ok(!log.some((e) => /sig=[^<]/.test(e.query)), 'signatures are redacted in the log');
});

test('the blob listener has modes too (e.g. refused while the service is up)', async () => {
  await control('POST', 'config', { blob_mode: 'proxy' });
  const c = await twirp('CreateCacheEntry', { key: uniq('bm'), version: V });
  await control('POST', 'mode', { blob: 'refuse' });
  await assert.rejects(request('PUT', c.json.signed_upload_url, { body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } }),
    (e) => e.code === 'ECONNREFUSED');
});

test('control API rejects bad input', async () => {
  for (const [p, body] of [['faults', { method: 'X', action: 'explode' }], ['faults', { action: 'hang' }],
    ['mode', { service: 'sideways' }], ['mode', { control: 'refuse' }], ['config', { nope: 1 }], ['config', { blob_mode: 'x' }]]) {
    const r = await request('POST', new URL(p, env().controlUrl).href, { body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400, `${p} ${JSON.stringify(body)}: ${r.text}`);
  }
});
