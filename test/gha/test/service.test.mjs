// The double's twirp protocol, spoken raw: auth, routing, create/finalize rules, matching order,
// scopes. Fast (no official client, no tar).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { twirp, control, putEntry, request, env } from './helpers.mjs';

const V = 'a'.repeat(64);
const uniq = (t) => `${t}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

before(async () => { await control('POST', 'reset'); });

test('401 without a token, with a wrong token, with a non-Bearer header', async () => {
  for (const [token, headers] of [[null, {}], ['wrong-token', {}], [null, { Authorization: `Basic ${env().token}` }]]) {
    const r = await twirp('GetCacheEntryDownloadURL', { key: 'k', version: V }, { token, headers });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.code, 'unauthenticated');
    assert.equal(typeof r.json.msg, 'string');
  }
  const ok = await twirp('GetCacheEntryDownloadURL', { key: 'k', version: V });
  assert.equal(ok.status, 200);
  const log = await control('GET', 'requests?kind=twirp');
  assert.deepEqual(log.requests.slice(-4).map((e) => e.auth), ['missing', 'invalid', 'missing', 'ok']);
});

test('twirp routing: POST + application/json only, known methods only', async () => {
  const base = new URL(`/twirp/github.actions.results.api.v1.CacheService/`, env().resultsUrl).href;
  const auth = { Authorization: `Bearer ${env().token}` };
  let r = await request('GET', `${base}CreateCacheEntry`, { headers: auth });
  assert.equal(r.status, 404);
  assert.equal(r.json.code, 'bad_route');
  r = await twirp('DeleteCacheEntry', { key: 'k' });
  assert.equal(r.status, 404);
  assert.equal(r.json.code, 'bad_route');
  r = await request('POST', `${base}CreateCacheEntry`, { body: '{"key":"k","version":"v"}', headers: { ...auth, 'Content-Type': 'text/plain' } });
  assert.equal(r.status, 404);
  r = await twirp('CreateCacheEntry', '{not json');
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'malformed');
  r = await twirp('CreateCacheEntry', { key: '', version: V });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'invalid_argument');
  r = await twirp('CreateCacheEntry', { key: 'x'.repeat(513), version: V });
  assert.equal(r.status, 400);
});

test('create -> upload -> finalize; replies in the real shape', async () => {
  const key = uniq('shape');
  const c = await twirp('CreateCacheEntry', { key, version: V });
  assert.equal(c.status, 200);
  assert.equal(c.headers['content-type'], 'application/json');
  assert.deepEqual(Object.keys(c.json), ['ok', 'signed_upload_url']);
  assert.equal(c.json.ok, true);
  const u = new URL(c.json.signed_upload_url);
  assert.equal(u.searchParams.get('sr'), 'b');
  assert.equal(u.searchParams.get('sp'), 'cw');
  assert.ok(u.searchParams.get('sig'));
  // the SAS is checked by Azurite: a tampered one is refused
  const bad = new URL(u); bad.searchParams.set('sig', 'AAAA');
  const p0 = await request('PUT', bad.href, { body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
  assert.equal(p0.status, 403);
  const p = await request('PUT', u.href, { body: '12345', headers: { 'x-ms-blob-type': 'BlockBlob' } });
  assert.equal(p.status, 201);
  // not visible before finalize
  assert.deepEqual((await twirp('GetCacheEntryDownloadURL', { key, version: V })).json, { ok: false });
  const f = await twirp('FinalizeCacheEntryUpload', { key, size_bytes: '5', version: V });
  assert.equal(f.status, 200, f.text);
  assert.deepEqual(Object.keys(f.json), ['ok', 'entry_id']);
  assert.match(f.json.entry_id, /^\d+$/);
  assert.ok(BigInt(f.json.entry_id) > 2n ** 32n, 'entry ids are int64 (beyond 32 bits on purpose)');
  const g = await twirp('GetCacheEntryDownloadURL', { key, version: V });
  assert.deepEqual(Object.keys(g.json), ['ok', 'signed_download_url', 'matched_key']);
  assert.equal(g.json.matched_key, key);
  assert.equal(new URL(g.json.signed_download_url).searchParams.get('sp'), 'r');
  const d = await request('GET', g.json.signed_download_url);
  assert.equal(d.status, 200);
  assert.equal(d.text, '12345');
  const list = await control('GET', `entries?key=${encodeURIComponent(key)}`);
  assert.equal(list.entries.length, 1);
  assert.equal(list.entries[0].state, 'finalized');
  assert.equal(list.entries[0].size_bytes, '5');
  assert.equal(list.entries[0].id, f.json.entry_id);
});

test('409 already_exists on a second create of the same key+version (pending or finalized)', async () => {
  const key = uniq('dup');
  assert.equal((await twirp('CreateCacheEntry', { key, version: V })).status, 200);
  const pending = await twirp('CreateCacheEntry', { key, version: V });
  assert.equal(pending.status, 409);
  assert.deepEqual(pending.json, { code: 'already_exists', msg: 'cache entry with the same key, version, and scope already exists' });
  const key2 = uniq('dup-final');
  await putEntry(key2, V);
  const fin = await twirp('CreateCacheEntry', { key: key2, version: V });
  assert.equal(fin.status, 409);
  assert.equal(fin.json.code, 'already_exists');
  // another version of the same key is another entry
  assert.equal((await twirp('CreateCacheEntry', { key: key2, version: 'b'.repeat(64) })).status, 200);
});

test('finalize: unknown entry 404, no blob 412, wrong size 400, twice 409; int64 as string or number, camelCase accepted', async () => {
  let r = await twirp('FinalizeCacheEntryUpload', { key: uniq('nothing'), version: V, size_bytes: '1' });
  assert.equal(r.status, 404);
  assert.equal(r.json.code, 'not_found');
  const key = uniq('fin');
  const c = await twirp('CreateCacheEntry', { key, version: V });
  r = await twirp('FinalizeCacheEntryUpload', { key, version: V, size_bytes: '3' });
  assert.equal(r.status, 412);
  assert.equal(r.json.code, 'failed_precondition');
  await request('PUT', c.json.signed_upload_url, { body: 'abc', headers: { 'x-ms-blob-type': 'BlockBlob' } });
  r = await twirp('FinalizeCacheEntryUpload', { key, version: V, size_bytes: '4' });
  assert.equal(r.status, 400);
  r = await twirp('FinalizeCacheEntryUpload', { key, version: V, size_bytes: 'x3' });
  assert.equal(r.status, 400);
  r = await twirp('FinalizeCacheEntryUpload', { key, version: V, sizeBytes: 3 });
  assert.equal(r.status, 200, r.text);
  r = await twirp('FinalizeCacheEntryUpload', { key, version: V, size_bytes: '3' });
  assert.equal(r.status, 409);
});

test('matching: exact key, key as prefix, then each restore key exact then prefix; newest first; equal version only', async () => {
  const p = uniq('m');
  await putEntry(`${p}-key-old`, V, 'key-old');
  await putEntry(`${p}-key`, V, 'key-exact');
  await putEntry(`${p}-key-new`, V, 'key-new');      // newer than the exact match
  await putEntry(`${p}-r1-a`, V, 'r1-a');
  await putEntry(`${p}-r1-b`, V, 'r1-b');            // newest r1 prefix match
  await putEntry(`${p}-r1`, 'c'.repeat(64), 'other version');
  await putEntry(`${p}-r2`, V, 'r2-exact');
  const get = async (key, restore_keys) => {
    const r = await twirp('GetCacheEntryDownloadURL', restore_keys ? { key, restore_keys, version: V } : { key, version: V });
    assert.equal(r.status, 200, r.text);
    return r.json.ok ? r.json.matched_key : null;
  };
  assert.equal(await get(`${p}-key`), `${p}-key`, 'exact beats a newer prefix match');
  assert.equal(await get(`${p}-ke`), `${p}-key-new`, 'prefix: newest');
  assert.equal(await get(`${p}-none`, [`${p}-r1`, `${p}-r2`]), `${p}-r1-b`, 'restore keys in order; r1 prefix, newest');
  assert.equal(await get(`${p}-none`, [`${p}-r2`, `${p}-r1`]), `${p}-r2`, 'r2 first: exact');
  assert.equal(await get(`${p}-r1`, [`${p}-r2`]), `${p}-r1-b`, 'the key as a prefix comes before the restore keys');
  assert.equal(await get(`${p}-zzz`, [`${p}-yyy`]), null);
  const other = await twirp('GetCacheEntryDownloadURL', { key: `${p}-r1`, version: 'c'.repeat(64) });
  assert.equal(other.json.matched_key, `${p}-r1`);
  const body = await request('GET', (await twirp('GetCacheEntryDownloadURL', { key: `${p}-r1-`, version: V })).json.signed_download_url);
  assert.equal(body.text, 'r1-b');
  // a pending (not finalized) newer entry is never matched
  await twirp('CreateCacheEntry', { key: `${p}-key-newest`, version: V });
  assert.equal(await get(`${p}-key-`), `${p}-key-new`);
  // more than 10 keys: 400
  const r = await twirp('GetCacheEntryDownloadURL', { key: 'a', restore_keys: Array(10).fill('b'), version: V });
  assert.equal(r.status, 400);
});

test('scopes from the token: current ref first, then the default branch; read-only tokens cannot write', async () => {
  const main = env().token; // refs/heads/main, read+write
  const { token: feature } = await control('POST', 'tokens', {
    scopes: [{ scope: 'refs/heads/main', permission: 1 }, { scope: 'refs/heads/feature', permission: 3 }],
  });
  const p = uniq('scope');
  await putEntry(`${p}-main`, V, 'from main', { token: main });
  // the feature branch sees main's entry...
  let r = await twirp('GetCacheEntryDownloadURL', { key: `${p}-main`, version: V }, { token: feature });
  assert.equal(r.json.matched_key, `${p}-main`);
  // ...but a prefix match in its own scope beats an exact match on main
  await putEntry(`${p}-main-feature`, V, 'from feature', { token: feature });
  r = await twirp('GetCacheEntryDownloadURL', { key: `${p}-main`, version: V }, { token: feature });
  assert.equal(r.json.matched_key, `${p}-main-feature`);
  // main does not see the feature branch's entry
  r = await twirp('GetCacheEntryDownloadURL', { key: `${p}-main-f`, version: V }, { token: main });
  assert.deepEqual(r.json, { ok: false });
  // same key+version in another scope is another entry (no 409)
  assert.equal((await twirp('CreateCacheEntry', { key: `${p}-main`, version: V }, { token: feature })).status, 200);
  const entries = (await control('GET', `entries?key=${encodeURIComponent(`${p}-main`)}`)).entries;
  assert.deepEqual(entries.map((e) => e.scope).sort(), ['refs/heads/feature', 'refs/heads/main']);

  const { token: ro } = await control('POST', 'tokens', { scopes: [{ scope: 'refs/heads/main', permission: 1 }] });
  r = await twirp('CreateCacheEntry', { key: uniq('ro'), version: V }, { token: ro });
  assert.equal(r.status, 200);
  assert.equal(r.json.ok, false);
  assert.match(r.json.message, /^cache write denied:/);
  const { token: wo } = await control('POST', 'tokens', { scopes: [{ scope: 'refs/heads/main', permission: 2 }] });
  r = await twirp('GetCacheEntryDownloadURL', { key: 'k', version: V }, { token: wo });
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'permission_denied');
  assert.match(r.json.msg, /^cache read denied:/);
});

test('control: request log records exact bodies; entries can be deleted', async () => {
  const key = uniq('log');
  await control('DELETE', 'requests');
  await putEntry(key, V);
  const log = (await control('GET', 'requests?kind=twirp')).requests;
  assert.deepEqual(log.map((e) => e.method), ['CreateCacheEntry', 'FinalizeCacheEntryUpload']);
  assert.equal(log[0].body_raw, JSON.stringify({ key, version: V }));
  assert.equal(log[1].body.size_bytes, String(`content of ${key}`.length));
  const [e] = (await control('GET', `entries?key=${key}`)).entries;
  await control('DELETE', `entries/${e.id}`);
  assert.deepEqual((await twirp('GetCacheEntryDownloadURL', { key, version: V })).json, { ok: false });
});

test('block upload (Put Block x2 + Put Block List) through the blob proxy; ops are classified in the log', async () => {
  await control('POST', 'config', { blob_mode: 'proxy' });
  try {
    await control('DELETE', 'requests');
    const key = uniq('blocks');
    const c = await twirp('CreateCacheEntry', { key, version: V });
    const u = new URL(c.json.signed_upload_url);
    const parts = [Buffer.alloc(300000, 1), Buffer.alloc(1234, 2)];
    const ids = parts.map((_, i) => Buffer.from(`${'0'.repeat(36)}${String(i).padStart(12, '0')}`).toString('base64'));
    for (const [i, part] of parts.entries()) {
      const r = await request('PUT', `${u.href}&comp=block&blockid=${encodeURIComponent(ids[i])}`, { body: part });
      assert.equal(r.status, 201, r.text);
    }
    const xml = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`;
    const bl = await request('PUT', `${u.href}&comp=blocklist`, { body: xml, headers: { 'Content-Type': 'application/xml' } });
    assert.equal(bl.status, 201, bl.text);
    const f = await twirp('FinalizeCacheEntryUpload', { key, version: V, size_bytes: '301234' });
    assert.equal(f.status, 200, f.text);
    const d = await request('GET', (await twirp('GetCacheEntryDownloadURL', { key, version: V })).json.signed_download_url,
      { headers: { Range: 'bytes=299999-300000' } });
    assert.equal(d.status, 206);
    assert.deepEqual([...d.buf], [1, 2]);
    const log = (await control('GET', 'requests?kind=blob')).requests;
    assert.deepEqual(log.map((e) => e.method), ['blob.PutBlock', 'blob.PutBlock', 'blob.PutBlockList', 'blob.GetBlob']);
    assert.equal(log[0].bytes_in, 300000);
  } finally {
    await control('POST', 'config', { blob_mode: 'direct' });
  }
});
