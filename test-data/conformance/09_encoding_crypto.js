// exact: iterations checks
// k6 exit: 0
// k6/encoding base64 variants and k6/crypto hashes, hmac and randomBytes (hex and base64 outputs).
import encoding from 'k6/encoding';
import crypto from 'k6/crypto';
import { check } from 'k6';

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

export default function () {
  const s = 'hi??';
  check(s, {
    'b64 std': (v) => encoding.b64encode(v) === 'aGk/Pw==' && encoding.b64encode(v, 'std') === 'aGk/Pw==',
    'b64 rawstd': (v) => encoding.b64encode(v, 'rawstd') === 'aGk/Pw',
    'b64 url': (v) => encoding.b64encode(v, 'url') === 'aGk_Pw==',
    'b64 rawurl': (v) => encoding.b64encode(v, 'rawurl') === 'aGk_Pw',
    'b64 decode to string': () => encoding.b64decode('aGk/Pw==', 'std', 's') === s && encoding.b64decode('aGk_Pw', 'rawurl', 's') === s,
    'b64 decode to ArrayBuffer': () => {
      const b = encoding.b64decode('aGk/Pw==');
      return b instanceof ArrayBuffer && b.byteLength === 4 && new Uint8Array(b)[0] === 104;
    },
    'b64 encode ArrayBuffer': () => encoding.b64encode(new Uint8Array([0, 255]).buffer) === 'AP8=',
  });
  check('hello', {
    'md5': (v) => crypto.md5(v, 'hex') === '5d41402abc4b2a76b9719d911017c592',
    'sha1': (v) => crypto.sha1(v, 'hex') === 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d',
    'sha256 hex': (v) => crypto.sha256(v, 'hex') === '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    'sha256 base64': (v) => crypto.sha256(v, 'base64') === 'LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=',
    'sha512': (v) => crypto.sha512(v, 'hex') === '9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043',
    'hmac sha256 hex': () => crypto.hmac('sha256', 'key', 'data', 'hex') === '5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0',
    'hmac sha256 base64': () => crypto.hmac('sha256', 'key', 'data', 'base64') === 'UDH+PZicbRU3oBP6bnOdojRj/a7DtwE32Cjjas4iG9A=',
    'hmac md5': () => crypto.hmac('md5', 'key', 'data', 'hex') === '9d5c73ef85594d34ec4438b7c97e51d8',
    'randomBytes': () => {
      const b = crypto.randomBytes(16);
      return b instanceof ArrayBuffer && b.byteLength === 16;
    },
  });
}
