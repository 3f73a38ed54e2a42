// exact: iterations checks
// k6 exit: 0
// WebCrypto, the global `crypto` of k6 v1: digest and HMAC known answers, AES-CBC/CTR/GCM known
// answers and round trips, RSA (PKCS1-v1_5, PSS, OAEP), ECDSA on the three curves, ECDH, key
// import/export in raw, jwk, spki and pkcs8, getRandomValues/randomUUID, and the error names k6
// gives for bad input. Every check is true under k6 1.1; a check that is false in loadgate changes
// the exact `checks` count.
import { check } from 'k6';

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

// k6 1.1 has no TextEncoder/TextDecoder: ASCII only.
const enc = (s) => new Uint8Array(s.split('').map((c) => c.charCodeAt(0)));
const dec = { decode: (buf) => String.fromCharCode(...new Uint8Array(buf)) };
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
const subtle = crypto.subtle;

// The error name a rejected promise gives (or 'resolved').
async function errorName(p) {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e && e.name;
  }
}

export default async function () {
  // Digests and HMAC: known answers.
  const d1 = hex(await subtle.digest('SHA-1', enc('abc')));
  const d256 = hex(await subtle.digest('SHA-256', enc('abc')));
  const d384 = hex(await subtle.digest({ name: 'sha-384' }, enc('abc')));
  const d512 = hex(await subtle.digest('SHA-512', enc('abc').buffer));
  const hmacKey = await subtle.importKey('raw', enc('key'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
  const mac = await subtle.sign('HMAC', hmacKey, enc('The quick brown fox jumps over the lazy dog'));
  check(null, {
    'sha-1 known answer': () => d1 === 'a9993e364706816aba3e25717850c26c9cd0d89d',
    'sha-256 known answer': () => d256 === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    'sha-384 known answer': () => d384.startsWith('cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163'),
    'sha-512 known answer': () => d512.startsWith('ddaf35a193617abacc417349ae204131'),
    'hmac-sha256 known answer': () => hex(mac) === 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    'hmac key algorithm': () => hmacKey.algorithm.name === 'HMAC' && hmacKey.algorithm.hash.name === 'SHA-256' && hmacKey.algorithm.length === 24,
  });
  const macOk = await subtle.verify('HMAC', hmacKey, mac, enc('The quick brown fox jumps over the lazy dog'));
  const macBad = await subtle.verify('HMAC', hmacKey, mac, enc('the quick brown fox'));
  check(null, { 'hmac verify true/false': () => macOk === true && macBad === false });

  // AES: known answers with fixed keys and ivs, and round trips.
  const aesRaw = unhex('000102030405060708090a0b0c0d0e0f');
  const iv16 = unhex('0f0e0d0c0b0a09080706050403020100');
  const iv12 = unhex('0a0b0c0d0e0f101112131415');
  const cbcKey = await subtle.importKey('raw', aesRaw, 'AES-CBC', true, ['encrypt', 'decrypt']);
  const ctrKey = await subtle.importKey('raw', aesRaw, { name: 'AES-CTR' }, false, ['encrypt', 'decrypt']);
  const gcmKey = await subtle.importKey('raw', aesRaw, 'AES-GCM', true, ['encrypt', 'decrypt']);
  const cbc = await subtle.encrypt({ name: 'AES-CBC', iv: iv16 }, cbcKey, enc('hello webcrypto'));
  const ctr = await subtle.encrypt({ name: 'AES-CTR', counter: iv16, length: 64 }, ctrKey, enc('hello webcrypto'));
  const gcm = await subtle.encrypt({ name: 'AES-GCM', iv: iv12, additionalData: enc('aad') }, gcmKey, enc('hello webcrypto'));
  const gcm96 = await subtle.encrypt({ name: 'AES-GCM', iv: iv12, tagLength: 96 }, gcmKey, enc('hello webcrypto'));
  check(null, {
    'aes-cbc known answer': () => hex(cbc) === 'daee7f11c6a8cb772da2e16d5630dcc2',
    'aes-ctr known answer': () => hex(ctr) === '48cc95fedb6c2c8d667c8ea51cdaf6',
    'aes-gcm length (text + 16-byte tag)': () => gcm.byteLength === 15 + 16,
    'aes-gcm 96-bit tag length': () => gcm96.byteLength === 15 + 12,
    'aes key algorithm': () => cbcKey.algorithm.name === 'AES-CBC' && cbcKey.algorithm.length === 128 && cbcKey.type === 'secret',
  });
  const cbcBack = dec.decode(await subtle.decrypt({ name: 'AES-CBC', iv: iv16 }, cbcKey, cbc));
  const ctrBack = dec.decode(await subtle.decrypt({ name: 'AES-CTR', counter: iv16, length: 64 }, ctrKey, ctr));
  const gcmBack = dec.decode(await subtle.decrypt({ name: 'AES-GCM', iv: iv12, additionalData: enc('aad') }, gcmKey, gcm));
  const gcm96Back = dec.decode(await subtle.decrypt({ name: 'AES-GCM', iv: iv12, tagLength: 96 }, gcmKey, gcm96));
  const tampered = new Uint8Array(gcm);
  tampered[0] ^= 1;
  check(null, {
    'aes round trips': () => cbcBack === 'hello webcrypto' && ctrBack === 'hello webcrypto' && gcmBack === 'hello webcrypto' && gcm96Back === 'hello webcrypto',
  });
  check(await errorName(subtle.decrypt({ name: 'AES-GCM', iv: iv12, additionalData: enc('aad') }, gcmKey, tampered)), {
    'aes-gcm tampered ciphertext: OperationError': (n) => n === 'OperationError',
  });
  const gen = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const genRaw = await subtle.exportKey('raw', gen);
  const genJwk = await subtle.exportKey('jwk', gen);
  const fromJwk = await subtle.importKey('jwk', genJwk, 'AES-GCM', true, ['encrypt', 'decrypt']);
  check(null, {
    'generated aes-256 exports 32 bytes': () => genRaw.byteLength === 32,
    'aes jwk export': () => genJwk.kty === 'oct' && genJwk.alg === 'A256GCM' && genJwk.ext === true && typeof genJwk.k === 'string',
  });
  check(hex(await subtle.exportKey('raw', fromJwk)), { 'aes jwk import gives the same key': (h) => h === hex(genRaw) });

  // RSA.
  const rsaParams = { modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const pkcs1 = await subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', ...rsaParams }, true, ['sign', 'verify']);
  const pss = await subtle.generateKey({ name: 'RSA-PSS', ...rsaParams }, true, ['sign', 'verify']);
  const oaep = await subtle.generateKey({ name: 'RSA-OAEP', ...rsaParams }, true, ['encrypt', 'decrypt']);
  const sig1 = await subtle.sign('RSASSA-PKCS1-v1_5', pkcs1.privateKey, enc('data'));
  const sig1b = await subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, pkcs1.privateKey, enc('data'));
  const sigPss = await subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, pss.privateKey, enc('data'));
  const oaepCt = await subtle.encrypt({ name: 'RSA-OAEP' }, oaep.publicKey, enc('secret'));
  const oaepPt = dec.decode(await subtle.decrypt({ name: 'RSA-OAEP' }, oaep.privateKey, oaepCt));
  const spki = await subtle.exportKey('spki', pkcs1.publicKey);
  const pkcs8 = await subtle.exportKey('pkcs8', pkcs1.privateKey);
  const pubAgain = await subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
  const privAgain = await subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
  const rsaJwk = await subtle.exportKey('jwk', pkcs1.privateKey);
  const fromRsaJwk = await subtle.importKey('jwk', rsaJwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
  const sigJwk = await subtle.sign('RSASSA-PKCS1-v1_5', fromRsaJwk, enc('data'));
  check(null, {
    'rsa key pair shape': () => pkcs1.privateKey.type === 'private' && pkcs1.publicKey.type === 'public' &&
      pkcs1.privateKey.algorithm.modulusLength === 1024 && pkcs1.publicKey.algorithm.hash.name === 'SHA-256' &&
      pkcs1.privateKey.usages.join() === 'sign' && pkcs1.publicKey.usages.join() === 'verify',
    'pkcs1 signature is deterministic': () => sig1.byteLength === 128 && hex(sig1) === hex(sig1b),
    'pkcs1 signature from a jwk-imported key is the same': () => hex(sigJwk) === hex(sig1),
    'pss signature length': () => sigPss.byteLength === 128,
    'oaep round trip': () => oaepCt.byteLength === 128 && oaepPt === 'secret',
    'rsa jwk export': () => rsaJwk.kty === 'RSA' && typeof rsaJwk.d === 'string' && typeof rsaJwk.qi === 'string' && rsaJwk.e === 'AQAB',
    'rsa spki/pkcs8 import': () => pubAgain.type === 'public' && privAgain.type === 'private' && pubAgain.algorithm.modulusLength === 1024,
  });
  const v1 = await subtle.verify('RSASSA-PKCS1-v1_5', pubAgain, sig1, enc('data'));
  const v1bad = await subtle.verify('RSASSA-PKCS1-v1_5', pubAgain, sig1, enc('other'));
  const vPss = await subtle.verify({ name: 'RSA-PSS', saltLength: 32 }, pss.publicKey, sigPss, enc('data'));
  check(null, { 'rsa verify true/false': () => v1 === true && v1bad === false && vPss === true });

  // ECDSA on each curve, ECDH.
  for (const [curve, hash, sigLen] of [['P-256', 'SHA-256', 64], ['P-384', 'SHA-384', 96], ['P-521', 'SHA-512', 132]]) {
    const kp = await subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
    const sig = await subtle.sign({ name: 'ECDSA', hash }, kp.privateKey, enc('data'));
    const ok = await subtle.verify({ name: 'ECDSA', hash }, kp.publicKey, sig, enc('data'));
    const bad = await subtle.verify({ name: 'ECDSA', hash }, kp.publicKey, sig, enc('datb'));
    const raw = await subtle.exportKey('raw', kp.publicKey);
    const jwk = await subtle.exportKey('jwk', kp.privateKey);
    const spkiEc = await subtle.exportKey('spki', kp.publicKey);
    const imported = await subtle.importKey('spki', spkiEc, { name: 'ECDSA', namedCurve: curve }, true, ['verify']);
    const okImported = await subtle.verify({ name: 'ECDSA', hash }, imported, sig, enc('data'));
    const fromJwkEc = await subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: curve }, true, ['sign']);
    const sig2 = await subtle.sign({ name: 'ECDSA', hash }, fromJwkEc, enc('data'));
    const ok2 = await subtle.verify({ name: 'ECDSA', hash }, kp.publicKey, sig2, enc('data'));
    check(kp, {
      [`ecdsa ${curve} sign/verify`]: () => sig.byteLength === sigLen && ok === true && bad === false,
      [`ecdsa ${curve} raw/spki/jwk`]: () => raw.byteLength === 1 + sigLen && new Uint8Array(raw)[0] === 4 &&
        jwk.kty === 'EC' && jwk.crv === curve && typeof jwk.d === 'string' && okImported === true && ok2 === true,
      // k6 1.1 gives namedCurve with JSON quotes ("\"P-256\""): compared loosely.
      [`ecdsa ${curve} key algorithm`]: (k) => String(k.privateKey.algorithm.namedCurve).includes(curve) && k.publicKey.usages.join() === 'verify',
    });
  }
  const alice = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveKey', 'deriveBits']);
  const bob = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveKey', 'deriveBits']);
  const s1 = await subtle.deriveBits({ name: 'ECDH', public: bob.publicKey }, alice.privateKey, 256);
  const s2 = await subtle.deriveBits({ name: 'ECDH', public: alice.publicKey }, bob.privateKey, 256);
  const bobRaw = await subtle.exportKey('raw', bob.publicKey);
  const bobImported = await subtle.importKey('raw', bobRaw, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
  const s3 = await subtle.deriveBits({ name: 'ECDH', public: bobImported }, alice.privateKey, 128);
  check(null, {
    'ecdh shared secrets agree': () => s1.byteLength === 32 && hex(s1) === hex(s2) && hex(s3) === hex(s1).slice(0, 32),
    'ecdh public key has no usages': () => alice.publicKey.usages.length === 0,
  });

  // Randomness.
  const u8 = crypto.getRandomValues(new Uint8Array(16));
  const uuid = crypto.randomUUID();
  check(null, {
    'getRandomValues returns its argument, filled': () => u8 instanceof Uint8Array && u8.length === 16,
    'randomUUID is a v4 uuid': () => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid),
    'getRandomValues refuses floats': () => {
      try {
        crypto.getRandomValues(new Float64Array(2));
        return false;
      } catch (e) {
        // k6 1.1 throws these wrapped: name GoError, message "TypeMismatchError: ...".
        return String(e).includes('TypeMismatchError');
      }
    },
    'getRandomValues refuses more than 65536 bytes': () => {
      try {
        crypto.getRandomValues(new Uint8Array(65537));
        return false;
      } catch (e) {
        return String(e).includes('QuotaExceededError');
      }
    },
  });

  // Errors as k6 names them.
  const names = {
    unknownDigest: await errorName(subtle.digest('SHA-7', enc('x'))),
    pbkdf2: await errorName(subtle.importKey('raw', enc('pw'), 'PBKDF2', false, ['deriveBits'])),
    wrongUsage: await errorName(subtle.encrypt({ name: 'AES-CBC', iv: iv16 }, hmacKey, enc('x'))),
    noUsage: await errorName(subtle.sign('HMAC', await subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']), enc('x'))),
    emptyUsages: await errorName(subtle.generateKey({ name: 'AES-CBC', length: 128 }, true, [])),
    badAesLength: await errorName(subtle.importKey('raw', new Uint8Array(7), 'AES-CBC', true, ['encrypt'])),
    badKeyGenLength: await errorName(subtle.generateKey({ name: 'AES-CBC', length: 100 }, true, ['encrypt'])),
    notExtractable: await errorName(subtle.exportKey('raw', ctrKey)),
    badSpki: await errorName(subtle.importKey('spki', new Uint8Array([1, 2, 3]), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify'])),
    badCurve: await errorName(subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-999' }, true, ['sign'])),
    badIv: await errorName(subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(3) }, cbcKey, enc('x'))),
  };
  check(names, {
    'unknown digest: NotSupportedError': (n) => n.unknownDigest === 'NotSupportedError',
    'PBKDF2 (not in k6 1.1): NotSupportedError': (n) => n.pbkdf2 === 'NotSupportedError',
    'key of another algorithm: InvalidAccessError': (n) => n.wrongUsage === 'InvalidAccessError',
    'key without the usage: InvalidAccessError': (n) => n.noUsage === 'InvalidAccessError',
    'empty usages: SyntaxError': (n) => n.emptyUsages === 'SyntaxError',
    'aes key of 7 bytes: DataError': (n) => n.badAesLength === 'DataError',
    'aes key of 100 bits: OperationError': (n) => n.badKeyGenLength === 'OperationError',
    'export of a non-extractable key: InvalidAccessError': (n) => n.notExtractable === 'InvalidAccessError',
    'malformed spki: DataError': (n) => n.badSpki === 'DataError',
    'unknown curve: NotSupportedError': (n) => n.badCurve === 'NotSupportedError',
    'aes-cbc iv of 3 bytes: OperationError': (n) => n.badIv === 'OperationError',
  });
}
