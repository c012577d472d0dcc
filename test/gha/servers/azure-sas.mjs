#!/usr/bin/env node
// azure-sas.mjs — Azure Blob SAS tokens made with node's own crypto (no npm packages), for Azurite
// or real Azure. Same string-to-sign as @azure/storage-blob 12.x for sv=2022-11-02 (adapted from
// the shared research scripts, where the signatures were checked against the SDK's
// generateBlobSASQueryParameters / generateAccountSASQueryParameters: identical).
//
//   node azure-sas.mjs service ACCOUNT KEY_B64 CONTAINER [BLOB] [PERMS=racwdl] [MINUTES=120]
//       -> container SAS (sr=c) or, with BLOB, blob SAS (sr=b); prints the query string
//   node azure-sas.mjs account ACCOUNT KEY_B64 [PERMS=racwdl] [MINUTES=120]
//       -> account SAS for the blob service, resource types s,c,o (create containers with it)
// MINUTES may be negative (an already-expired token, for tests). Start time is 5 min in the past.
// Also imported by cache-service.mjs (serviceSas, accountSas).
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const SAS_VERSION = '2022-11-02';
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const sign = (keyB64, s) =>
  crypto.createHmac('sha256', Buffer.from(keyB64, 'base64')).update(s, 'utf8').digest('base64');
// Azure wants permission letters in a fixed order (as @azure/storage-blob writes them)
const order = (perms, ref) => [...ref].filter((c) => perms.includes(c)).join('');
const qs = (o) =>
  Object.entries(o).filter(([, v]) => v !== '' && v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

/** Service SAS for a container (blob = '') or one blob. Returns the query string (no '?'). */
export function serviceSas(account, key, container, blob = '', perms = 'racwdl', minutes = 120) {
  const st = iso(new Date(Date.now() - 5 * 60e3));
  const se = iso(new Date(Date.now() + minutes * 60e3));
  const sr = blob ? 'b' : 'c';
  perms = blob ? order(perms, 'racwdxytmeopi') : order(perms, 'racwdxltfmeopi'); // no 'l' on a blob
  const resource = `/blob/${account}/${container}${blob ? '/' + blob : ''}`;
  // sp st se canonicalizedResource si sip spr sv sr snapshot-time ses rscc rscd rsce rscl rsct
  const sts = [perms, st, se, resource, '', '', 'https,http', SAS_VERSION, sr, '', '', '', '', '', '', ''].join('\n');
  return qs({ sv: SAS_VERSION, spr: 'https,http', st, se, sr, sp: perms, sig: sign(key, sts) });
}

/** Account SAS for the blob service (resource types service, container, object). */
export function accountSas(account, key, perms = 'racwdl', minutes = 120) {
  const st = iso(new Date(Date.now() - 5 * 60e3));
  const se = iso(new Date(Date.now() + minutes * 60e3));
  perms = order(perms, 'rwdxylacuptfi');
  // account sp ss srt st se sip spr sv ses "" (trailing newline)
  const sts = [account, perms, 'b', 'sco', st, se, '', 'https,http', SAS_VERSION, '', ''].join('\n');
  return qs({ sv: SAS_VERSION, ss: 'b', srt: 'sco', spr: 'https,http', st, se, sp: perms, sig: sign(key, sts) });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [mode, ...a] = process.argv.slice(2);
  if (mode === 'service' && a.length >= 3) {
    console.log(serviceSas(a[0], a[1], a[2], a[3] || '', a[4] || 'racwdl', Number(a[5] || 120)));
  } else if (mode === 'account' && a.length >= 2) {
    console.log(accountSas(a[0], a[1], a[2] || 'racwdl', Number(a[3] || 120)));
  } else {
    console.error('usage: azure-sas.mjs service ACCOUNT KEY CONTAINER [BLOB] [PERMS] [MINUTES]\n' +
                  '       azure-sas.mjs account ACCOUNT KEY [PERMS] [MINUTES]');
    process.exit(2);
  }
}
