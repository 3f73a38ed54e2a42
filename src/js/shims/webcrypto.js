// WebCrypto, k6 v1's global `crypto` (getRandomValues, randomUUID, subtle), installed on first use
// (the global starts as a getter that installs the natives and evaluates this). The natives
// (js::modules::webcrypto) are stateless operations on ArrayBuffers; this file owns the API:
// algorithm normalisation, usages, CryptoKey objects whose key material stays in a WeakMap (never
// visible to the script), Promises, and k6's error objects ({name, message}, not Error instances).
(() => {
  const n = globalThis.__k6;

  const ERROR_NAMES = ['DataError', 'ImplementationError', 'InvalidAccessError', 'NotSupportedError',
    'OperationError', 'SyntaxError', 'TypeMismatchError', 'TypeError', 'QuotaExceededError', 'NotImplemented'];

  class WebCryptoError {
    constructor(name, message) { this.name = name; this.message = message; }
    toString() { return `${this.name}: ${this.message}`; }
  }
  const fail = (name, message) => { throw new WebCryptoError(name, message); };
  // A native's failure ("Name: message") as k6's error object; anything else as it is.
  const lift = (e) => {
    if (e instanceof WebCryptoError || !(e instanceof Error)) return e;
    const m = /^(\w+): ([\s\S]*)$/.exec(e.message);
    return m && ERROR_NAMES.includes(m[1]) ? new WebCryptoError(m[1], m[2]) : e;
  };
  const run = (fn) => new Promise((resolve, reject) => {
    try { resolve(fn()); } catch (e) { reject(lift(e)); }
  });

  // --- bytes -------------------------------------------------------------------------------
  const view = (v, what) => {
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return fail('TypeError', `${what} must be an ArrayBuffer, TypedArray, or DataView`);
  };
  // A copy of the bytes as a fresh ArrayBuffer (what the natives take).
  const copy = (v, what) => view(v, what).slice().buffer;
  const optCopy = (v, what) => (v === undefined || v === null ? undefined : copy(v, what));

  // --- algorithms ----------------------------------------------------------------------------
  const HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
  const AES = ['AES-CBC', 'AES-CTR', 'AES-GCM', 'AES-KW'];
  const EC = ['ECDH', 'ECDSA'];
  const RSA = ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP'];
  const CURVES = ['P-256', 'P-384', 'P-521'];
  const KEYED = [...AES, 'HMAC', ...EC, ...RSA];
  const SUPPORTED = {
    digest: HASHES,
    generateKey: [...KEYED, ...HASHES],
    importKey: KEYED,
    exportKey: KEYED,
    encrypt: [...AES, 'RSA-OAEP'],
    decrypt: [...AES, 'RSA-OAEP'],
    sign: ['HMAC', 'ECDSA', 'RSA-PSS', 'RSASSA-PKCS1-v1_5'],
    verify: ['HMAC', 'ECDSA', 'RSA-PSS', 'RSASSA-PKCS1-v1_5'],
    deriveBits: ['ECDH'],
  };
  const upperName = (name) => {
    const upper = String(name).toUpperCase();
    return upper === 'RSASSA-PKCS1-V1_5' ? 'RSASSA-PKCS1-v1_5' : upper;
  };
  const normalize = (alg, op) => {
    const obj = typeof alg === 'string' ? { name: alg } : alg;
    if (obj === null || typeof obj !== 'object' || obj.name === undefined) {
      fail('SyntaxError', 'algorithm cannot be interpreted as a string or an object');
    }
    const name = upperName(obj.name);
    if (!SUPPORTED[op].includes(name)) {
      fail('NotSupportedError', `algorithm "${name}" doesn't support (in implementation) operation "${op}"`);
    }
    return Object.assign({}, obj, { name });
  };
  const hashOf = (h) => {
    if (h === undefined || h === null) fail('SyntaxError', 'could not get hash from algorithm parameter');
    const name = upperName(typeof h === 'object' ? h.name : h);
    if (!HASHES.includes(name)) fail('NotSupportedError', `unsupported hash algorithm "${name}"`);
    return name;
  };
  const need = (a, field) => {
    if (a[field] === undefined || a[field] === null) {
      fail('SyntaxError', `could not get ${field} from algorithm parameter`);
    }
    return a[field];
  };
  const curveOf = (a) => {
    const curve = need(a, 'namedCurve');
    if (!CURVES.includes(curve)) fail('NotSupportedError', `elliptic curve ${curve} is not supported`);
    return curve;
  };

  // --- keys ----------------------------------------------------------------------------------
  const slots = new WeakMap();
  class CryptoKey {
    constructor() { fail('TypeError', 'Illegal constructor'); }
  }
  const newKey = (type, extractable, algorithm, usages, material) => {
    const key = Object.create(CryptoKey.prototype);
    key.type = type;
    key.extractable = Boolean(extractable);
    key.algorithm = algorithm;
    key.usages = usages;
    slots.set(key, material);
    return key;
  };
  const material = (key, message) => {
    const m = key !== null && typeof key === 'object' ? slots.get(key) : undefined;
    return m === undefined ? fail('InvalidAccessError', message) : m;
  };
  const usageList = (usages) => {
    if (usages === undefined || usages === null) return [];
    if (!Array.isArray(usages)) fail('TypeError', 'keyUsages must be an array of strings');
    return usages.map(String);
  };
  const checkUsages = (usages, allowed) => {
    for (const u of usages) if (!allowed.includes(u)) fail('SyntaxError', `invalid key usage: ${u}`);
  };
  const only = (usages, allowed) => usages.filter((u) => allowed.includes(u));
  const notEmpty = (type, usages) => {
    if ((type === 'secret' || type === 'private') && usages.length === 0) {
      fail('SyntaxError', 'usages cannot not be empty for a secret or private CryptoKey');
    }
  };
  const AES_USAGES = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
  const SIGN_USAGES = ['sign', 'verify'];
  const RSA_USAGES = { 'RSASSA-PKCS1-v1_5': SIGN_USAGES, 'RSA-PSS': SIGN_USAGES, 'RSA-OAEP': AES_USAGES };
  const PAIR_USAGES = {
    ECDSA: [['sign'], ['verify']],
    ECDH: [['deriveKey', 'deriveBits'], []],
    'RSASSA-PKCS1-v1_5': [['sign'], ['verify']],
    'RSA-PSS': [['sign'], ['verify']],
    'RSA-OAEP': [['decrypt', 'unwrapKey'], ['encrypt', 'wrapKey']],
  };

  const generateKey = (alg, extractable, keyUsages) => {
    const a = normalize(alg, 'generateKey');
    const usages = usageList(keyUsages);
    let result;
    if (AES.includes(a.name)) {
      const length = Number(need(a, 'length'));
      checkUsages(usages, a.name === 'AES-KW' ? ['wrapKey', 'unwrapKey'] : AES_USAGES);
      if (![128, 192, 256].includes(length)) fail('OperationError', 'invalid key length');
      result = newKey('secret', extractable, { name: a.name, length }, usages, { secret: n.wcRandom(length / 8) });
    } else if (a.name === 'HMAC') {
      const hash = hashOf(a.hash);
      checkUsages(usages, SIGN_USAGES);
      const length = a.length === undefined ? n.wcHmacBlockBits(hash) : Number(a.length);
      if (length === 0) fail('OperationError', "algorithm's length cannot be 0");
      result = newKey('secret', extractable, { name: 'HMAC', hash: { name: hash }, length }, usages,
        { secret: n.wcRandom(Math.ceil(length / 8)) });
    } else if (EC.includes(a.name)) {
      const curve = curveOf(a);
      if (usages.length === 0) fail('SyntaxError', 'key usages cannot be empty');
      const [priv, pub] = PAIR_USAGES[a.name];
      checkUsages(usages, [...priv, ...pub]);
      const [pkcs8, raw] = n.wcEcGenerate(curve);
      const algorithm = { name: a.name, namedCurve: curve };
      return {
        privateKey: newKey('private', extractable, algorithm, only(usages, priv), { curve, pkcs8, raw }),
        publicKey: newKey('public', true, algorithm, only(usages, pub), { curve, raw }),
      };
    } else if (RSA.includes(a.name)) {
      const modulusLength = need(a, 'modulusLength');
      const exponent = need(a, 'publicExponent');
      if (!(exponent instanceof Uint8Array)) fail('OperationError', 'publicExponent is not a byte array');
      const hash = hashOf(a.hash);
      if (usages.length === 0) fail('SyntaxError', 'key usages cannot be empty');
      checkUsages(usages, RSA_USAGES[a.name]);
      const [pkcs8, spki, bits, e] = n.wcRsaGenerate(Number(modulusLength), copy(exponent));
      const algorithm = { name: a.name, modulusLength: bits, publicExponent: new Uint8Array(e), hash: { name: hash } };
      const [priv, pub] = PAIR_USAGES[a.name];
      return {
        privateKey: newKey('private', extractable, algorithm, only(usages, priv), { der: pkcs8 }),
        publicKey: newKey('public', true, algorithm, only(usages, pub), { der: spki }),
      };
    } else {
      fail('NotImplemented', `unsupported key generation algorithm '${a.name}', accepted values are: ${KEYED.join(', ')}`);
    }
    notEmpty(result.type, result.usages);
    return result;
  };

  const FORMATS = ['raw', 'pkcs8', 'spki', 'jwk'];
  const unsupportedFormat = (format, name) => fail('NotSupportedError', `unsupported key format ${format} for algorithm ${name}`);
  const jwkBytes = (jwk, field) => {
    if (typeof jwk[field] !== 'string') fail('DataError', `the JWK has no \`${field}\` member`);
    return n.wcUnB64u(jwk[field], field);
  };
  const checkKty = (jwk, kty) => {
    if (jwk.kty !== kty) fail('DataError', `invalid JWK: kty must be "${kty}", got ${JSON.stringify(jwk.kty)}`);
  };

  const importKey = (format, keyData, alg, extractable, keyUsages) => {
    const a = normalize(alg, 'importKey');
    const usages = usageList(keyUsages);
    if (!FORMATS.includes(format)) fail('ImplementationError', `unsupported format ${format}`);
    const jwk = format === 'jwk' ? keyData : undefined;
    if (jwk !== undefined && (jwk === null || typeof jwk !== 'object' || ArrayBuffer.isView(jwk) || jwk instanceof ArrayBuffer)) {
      fail('ImplementationError', 'invalid keyData format for JWK format: not an object');
    }
    const bytes = () => copy(keyData, 'keyData');
    let key;
    if (AES.includes(a.name) || a.name === 'HMAC') {
      if (format !== 'raw' && format !== 'jwk') unsupportedFormat(format, a.name);
      let secret;
      if (jwk) {
        checkKty(jwk, 'oct');
        secret = jwkBytes(jwk, 'k');
      } else {
        secret = bytes();
      }
      const bits = secret.byteLength * 8;
      if (a.name === 'HMAC') {
        const hash = hashOf(a.hash);
        checkUsages(usages, SIGN_USAGES);
        if (bits === 0) fail('DataError', 'key length cannot be 0');
        if (a.length !== undefined && Number(a.length) !== bits) {
          fail('DataError', 'key length cannot be different from the length of the imported data');
        }
        key = newKey('secret', extractable, { name: 'HMAC', hash: { name: hash }, length: bits }, usages, { secret });
      } else {
        checkUsages(usages, AES_USAGES);
        if (![128, 192, 256].includes(bits)) fail('DataError', `invalid key length ${secret.byteLength} bytes`);
        key = newKey('secret', extractable, { name: a.name, length: bits }, usages, { secret });
      }
    } else if (EC.includes(a.name)) {
      const curve = curveOf(a);
      const [priv, pub] = PAIR_USAGES[a.name];
      let got;
      let type;
      if (jwk) {
        checkKty(jwk, 'EC');
        const crv = jwk.crv === undefined ? curve : jwk.crv;
        if (!CURVES.includes(crv)) fail('NotSupportedError', `elliptic curve ${crv} is not supported`);
        if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') fail('DataError', 'the JWK has no `x` or `y` member');
        const [pkcs8, raw] = n.wcEcJwkImport(crv, jwk.x, jwk.y, typeof jwk.d === 'string' ? jwk.d : undefined);
        got = pkcs8 ? { curve: crv, pkcs8, raw } : { curve: crv, raw };
        type = pkcs8 ? 'private' : 'public';
      } else {
        const [c, pkcs8, raw] = n.wcEcImport(format, curve, bytes());
        got = pkcs8 ? { curve: c, pkcs8, raw } : { curve: c, raw };
        type = format === 'pkcs8' ? 'private' : 'public';
      }
      checkUsages(usages, type === 'private' ? priv : pub);
      key = newKey(type, extractable, { name: a.name, namedCurve: got.curve }, usages, got);
    } else {
      if (format === 'raw') unsupportedFormat(format, a.name);
      const hash = hashOf(a.hash);
      let der;
      let isPrivate;
      let bits;
      let e;
      if (jwk) {
        checkKty(jwk, 'RSA');
        [der, isPrivate, bits, e] = n.wcRsaJwkImport(jwk);
      } else {
        isPrivate = format === 'pkcs8';
        [der, bits, e] = n.wcRsaImport(format, bytes());
      }
      const [priv, pub] = PAIR_USAGES[a.name];
      checkUsages(usages, isPrivate ? priv : pub);
      key = newKey(isPrivate ? 'private' : 'public', extractable,
        { name: a.name, modulusLength: bits, publicExponent: new Uint8Array(e), hash: { name: hash } }, usages, { der });
    }
    notEmpty(key.type, key.usages);
    return key;
  };

  const JWK_AES = { 'AES-CBC': 'CBC', 'AES-CTR': 'CTR', 'AES-GCM': 'GCM', 'AES-KW': 'KW' };
  const JWK_HMAC = { 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' };
  const JWK_RSA = {
    'RSASSA-PKCS1-v1_5': { 'SHA-1': 'RS1', 'SHA-256': 'RS256', 'SHA-384': 'RS384', 'SHA-512': 'RS512' },
    'RSA-PSS': { 'SHA-1': 'PS1', 'SHA-256': 'PS256', 'SHA-384': 'PS384', 'SHA-512': 'PS512' },
    'RSA-OAEP': { 'SHA-1': 'RSA-OAEP', 'SHA-256': 'RSA-OAEP-256', 'SHA-384': 'RSA-OAEP-384', 'SHA-512': 'RSA-OAEP-512' },
  };

  const exportKey = (format, key) => {
    const m = material(key, 'key is not an object');
    if (!FORMATS.includes(format)) fail('NotSupportedError', `unsupported key format ${format}`);
    if (!key.extractable) fail('InvalidAccessError', 'the key is not extractable');
    const name = key.algorithm.name;
    const ops = key.usages.slice();
    if (m.secret) {
      if (format === 'raw') return m.secret.slice(0);
      if (format !== 'jwk') fail('NotSupportedError', `unsupported key format ${format}`);
      const alg = name === 'HMAC' ? JWK_HMAC[key.algorithm.hash.name] : `A${key.algorithm.length}${JWK_AES[name]}`;
      return { k: n.wcB64u(m.secret), kty: 'oct', ext: true, key_ops: ops, alg };
    }
    if (m.curve) {
      switch (format) {
        case 'raw':
          if (key.type !== 'public') fail('InvalidAccessError', 'key is not a valid elliptic curve public key');
          return m.raw.slice(0);
        case 'spki':
          if (key.type !== 'public') fail('InvalidAccessError', 'key is not a valid elliptic curve public key');
          return n.wcEcSpki(m.curve, m.raw);
        case 'pkcs8':
          if (key.type !== 'private') fail('InvalidAccessError', 'key is not a valid elliptic curve private key');
          return m.pkcs8.slice(0);
        default: {
          const parts = n.wcEcJwkExport(m.curve, m.pkcs8 || null, m.raw);
          return Object.assign({ kty: 'EC', crv: m.curve }, parts, { ext: true, key_ops: ops });
        }
      }
    }
    switch (format) {
      case 'spki':
        if (key.type !== 'public') fail('InvalidAccessError', 'given CryptoKey is not a public RSA key');
        return m.der.slice(0);
      case 'pkcs8':
        if (key.type !== 'private') fail('InvalidAccessError', 'given CryptoKey is not a private RSA key');
        return m.der.slice(0);
      case 'jwk': {
        const parts = n.wcRsaJwkExport(m.der, key.type === 'private');
        return Object.assign({ kty: 'RSA' }, parts,
          { alg: JWK_RSA[name][key.algorithm.hash.name], ext: true, key_ops: ops });
      }
      default:
        return unsupportedFormat(format, name);
    }
  };

  // --- operations ----------------------------------------------------------------------------
  // The checks encrypt/decrypt/sign/verify share: the key, its algorithm, its usages.
  const keyFor = (a, key, op, prefix) => {
    const m = material(key, `${prefix}key argument does hold not a valid CryptoKey object`);
    if (a.name !== key.algorithm.name) fail('InvalidAccessError', `${prefix}algorithm name does not match key algorithm name`);
    if (!key.usages.includes(op)) fail('InvalidAccessError', `${prefix}key does not contain the '${op}' usage`);
    return m;
  };
  const cipher = (op) => (alg, key, data) => run(() => {
    const a = normalize(alg, op);
    const m = keyFor(a, key, op, `${op}'s `);
    const decrypt = op === 'decrypt';
    const bytes = copy(data, 'data');
    if (a.name === 'RSA-OAEP') {
      if (key.type !== (decrypt ? 'private' : 'public')) {
        fail('InvalidAccessError', `given CryptoKey is not a ${decrypt ? 'private' : 'public'} RSA key`);
      }
      return n.wcRsaOaep(decrypt, key.algorithm.hash.name, m.der, optCopy(a.label, 'label'), bytes);
    }
    if (a.name === 'AES-KW') fail('NotSupportedError', `unsupported algorithm ${a.name} for ${op}`);
    const params = { iv: undefined, length: 0, additionalData: undefined };
    // A missing iv or counter is an empty one (k6 then fails on its length).
    const none = new Uint8Array(0);
    if (a.name === 'AES-CBC') {
      params.iv = copy(a.iv ?? none, 'iv');
    } else if (a.name === 'AES-CTR') {
      params.iv = copy(a.counter ?? none, 'counter');
      params.length = Number(a.length ?? 0);
    } else {
      params.iv = copy(a.iv ?? none, 'iv');
      params.additionalData = optCopy(a.additionalData, 'additionalData');
      params.length = a.tagLength === undefined ? 128 : Number(a.tagLength);
    }
    return n.wcAes(decrypt, a.name, m.secret, params, bytes);
  });

  const sign = (alg, key, data) => run(() => {
    const a = normalize(alg, 'sign');
    const m = keyFor(a, key, 'sign', '');
    const bytes = copy(data, 'data');
    switch (a.name) {
      case 'HMAC':
        return n.wcHmacSign(key.algorithm.hash.name, m.secret, bytes);
      case 'ECDSA':
        if (key.type !== 'private') fail('InvalidAccessError', 'key is not a valid ECDSA private key');
        return n.wcEcSign(m.curve, hashOf(a.hash), m.pkcs8, bytes);
      default: {
        if (key.type !== 'private') fail('InvalidAccessError', 'given CryptoKey is not a private RSA key');
        const pss = a.name === 'RSA-PSS';
        const salt = pss ? Number(need(a, 'saltLength')) : 0;
        return n.wcRsaSign(pss, key.algorithm.hash.name, m.der, salt, bytes);
      }
    }
  });

  const verify = (alg, key, signature, data) => run(() => {
    const a = normalize(alg, 'verify');
    const m = keyFor(a, key, 'verify', '');
    const sig = copy(signature, 'signature');
    const bytes = copy(data, 'data');
    switch (a.name) {
      case 'HMAC':
        return n.wcHmacVerify(key.algorithm.hash.name, m.secret, sig, bytes);
      case 'ECDSA':
        if (key.type !== 'public') fail('InvalidAccessError', 'key is not a valid ECDSA public key');
        return n.wcEcVerify(m.curve, hashOf(a.hash), m.raw, sig, bytes);
      default: {
        if (key.type !== 'public') fail('InvalidAccessError', 'given CryptoKey is not a public RSA key');
        const pss = a.name === 'RSA-PSS';
        const salt = pss ? Number(need(a, 'saltLength')) : 0;
        return n.wcRsaVerify(pss, key.algorithm.hash.name, m.der, salt, sig, bytes);
      }
    }
  });

  const deriveBits = (alg, baseKey, length) => run(() => {
    const priv = material(baseKey, 'provided baseKey is not a valid CryptoKey');
    if (baseKey.type !== 'private') fail('InvalidAccessError', 'provided baseKey is not a private key');
    if (!baseKey.usages.includes('deriveBits')) fail('InvalidAccessError', "provided baseKey does not contain the 'deriveBits' usage");
    if (alg === null || typeof alg !== 'object') fail('InvalidAccessError', 'algorithm is not an object');
    if (alg.public === undefined) fail('TypeError', 'algorithm does not contain a public key');
    const pub = material(alg.public, "algorithm's public key is not a valid CryptoKey");
    if (alg.public.type !== 'public') fail('InvalidAccessError', "algorithm's public key is not a public key");
    if (alg.name === undefined) fail('TypeError', 'algorithm does not contain a name property');
    const a = normalize(alg, 'deriveBits');
    if (baseKey.algorithm.name !== a.name || alg.public.algorithm.name !== a.name) {
      fail('InvalidAccessError', 'algorithm name does not match key algorithm name');
    }
    if (priv.curve !== pub.curve) fail('InvalidAccessError', 'keys use different elliptic curves');
    if (length !== undefined && length !== null && length % 8 !== 0) {
      fail('NotSupportedError', 'currently only multiples of 8 are supported for length');
    }
    const secret = n.wcEcdh(priv.curve, priv.pkcs8, pub.raw);
    if (length === undefined || length === null || length === 0) return secret;
    if (length / 8 > secret.byteLength) fail('OperationError', 'length is too large');
    return secret.slice(0, length / 8);
  });

  const notImplemented = () => { throw new Error('not implemented'); };

  const subtle = {
    decrypt: cipher('decrypt'),
    deriveBits,
    deriveKey: notImplemented,
    digest: (alg, data) => run(() => n.wcDigest(normalize(alg, 'digest').name, copy(data, 'data'))),
    encrypt: cipher('encrypt'),
    exportKey: (format, key) => run(() => exportKey(format, key)),
    generateKey: (alg, extractable, usages) => run(() => generateKey(alg, extractable, usages)),
    importKey: (format, keyData, alg, extractable, usages) => run(() => importKey(format, keyData, alg, extractable, usages)),
    sign,
    unwrapKey: notImplemented,
    verify,
    wrapKey: notImplemented,
  };

  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
    Uint32Array, BigInt64Array, BigUint64Array];
  const getRandomValues = (typedArray) => {
    if (!INTEGER_ARRAYS.some((T) => typedArray instanceof T)) {
      throw new WebCryptoError('TypeMismatchError', "typedArray parameter isn't a TypedArray instance");
    }
    if (typedArray.byteLength > 65536) {
      throw new WebCryptoError('QuotaExceededError',
        `typedArray's byte length (${typedArray.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`);
    }
    new Uint8Array(typedArray.buffer, typedArray.byteOffset, typedArray.byteLength)
      .set(new Uint8Array(n.wcRandom(typedArray.byteLength)));
    return typedArray;
  };
  const hex = (b) => b.toString(16).padStart(2, '0');
  const randomUUID = () => {
    const b = new Uint8Array(n.wcRandom(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, hex).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };

  Object.defineProperty(globalThis, 'crypto', {
    value: { getRandomValues, randomUUID, subtle, CryptoKey },
    writable: true,
    configurable: true,
    enumerable: false,
  });
})();
