// k6/crypto: hashes, HMAC and random bytes.
const n = globalThis.__k6;

const algos = ['md4', 'md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha512_224', 'sha512_256', 'ripemd160'];

export function hmac(algo, secret, data, enc) {
  return n.hmac(String(algo), secret, data, enc === undefined ? 'binary' : String(enc));
}
export function randomBytes(size) {
  return n.randomBytes(Number(size));
}
export function hexEncode(data) {
  return n.hexEncode(data);
}

// update() keeps each input as given (strings and raw bytes); the native hash concatenates their
// bytes, so binary input is hashed byte for byte, as k6 does.
class Hasher {
  constructor(algo, secret) { this.algo = algo; this.secret = secret; this.parts = []; }
  update(data) {
    this.parts.push(ArrayBuffer.isView(data) || data instanceof ArrayBuffer ? data.slice(0) : data);
    return this;
  }
  digest(enc) {
    const data = this.parts;
    const e = enc === undefined ? 'binary' : String(enc);
    return this.secret === undefined ? n.hash(this.algo, data, e) : n.hmac(this.algo, this.secret, data, e);
  }
}
export function createHash(algo) { return new Hasher(String(algo)); }
export function createHMAC(algo, secret) { return new Hasher(String(algo), secret); }

const out = { hmac, randomBytes, hexEncode, createHash, createHMAC };
for (const a of algos) {
  out[a] = (input, enc) => n.hash(a, input, enc === undefined ? 'binary' : String(enc));
}
export const md4 = out.md4, md5 = out.md5, sha1 = out.sha1, sha256 = out.sha256, sha384 = out.sha384,
  sha512 = out.sha512, sha512_224 = out.sha512_224, sha512_256 = out.sha512_256, ripemd160 = out.ripemd160;
export default out;
