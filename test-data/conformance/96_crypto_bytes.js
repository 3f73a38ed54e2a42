// exact: iterations checks
// k6 exit: 0
// k6/crypto on raw bytes: createHash/createHMAC update() with non-UTF-8 ArrayBuffers and
// Uint8Arrays (hashed byte for byte), mixed string and byte updates, md4 and ripemd160 (plain and
// HMAC), digests in every output encoding. Expected values are k6 v1.1's.
import crypto from 'k6/crypto';
import { check } from 'k6';

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

function hashOf(parts, algo, enc, key) {
  const h = key === undefined ? crypto.createHash(algo) : crypto.createHMAC(algo, key);
  for (const p of parts) h.update(p);
  return h.digest(enc);
}

export default function () {
  const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80]);
  check(bytes, {
    'createHash update(ArrayBuffer)': (b) => hashOf([b.buffer], 'md5', 'hex') === 'befdd6d5dd41ec321ab57139806edbb1',
    'createHash update(Uint8Array)': (b) => hashOf([b], 'md5', 'hex') === 'befdd6d5dd41ec321ab57139806edbb1',
    'createHash string then bytes': (b) => hashOf(['ab', b.buffer], 'md5', 'hex') === '6543ac6feccc492ef0853d27e2bfdeda',
    'createHMAC update(bytes)': (b) => hashOf([b.buffer], 'sha256', 'hex', 'k') === 'b882f906c4bb4f007c1278e550a4e3a46bf0fe123b15e7288f03e9dfa4b703e9',
    'one-shot hash of bytes': (b) => crypto.sha256(b.buffer, 'hex') === hashOf([b], 'sha256', 'hex'),
    'hmac with a byte key': (b) => crypto.hmac('sha1', b.buffer, 'x', 'hex') === hashOf(['x'], 'sha1', 'hex', b),
  });
  check('hello', {
    'md4': (s) => crypto.md4(s, 'hex') === '866437cb7a794bce2b727acc0362ee27',
    'ripemd160': (s) => crypto.ripemd160(s, 'hex') === '108f07b8382412612c048d07d13f814118445acd',
    'createHash md4': (s) => hashOf([s], 'md4', 'hex') === '866437cb7a794bce2b727acc0362ee27',
    'createHash ripemd160 base64': (s) => hashOf([s], 'ripemd160', 'base64') === crypto.ripemd160(s, 'base64'),
    'hmac md4': (s) => crypto.hmac('md4', 'k', s, 'hex') === 'b5e7f0d8cdb9dd7b3f9cf2f3a88b61ea',
    'hmac ripemd160': (s) => crypto.hmac('ripemd160', 'k', s, 'hex') === 'dee050825fae5df17d769f2eb7e3cab64decbb74',
    'binary digest': (s) => {
      const d = crypto.md4(s, 'binary');
      return d instanceof ArrayBuffer && d.byteLength === 16 && new Uint8Array(d)[0] === 0x86;
    },
    'digest twice': (s) => {
      const h = crypto.createHash('sha1');
      h.update(s);
      return h.digest('hex') === h.digest('hex');
    },
  });
}
