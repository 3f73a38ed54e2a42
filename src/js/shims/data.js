// k6/data: SharedArray — one copy per test in Rust; each element read re-parses its JSON (as k6).
const n = globalThis.__k6;

function deepFreeze(o) {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const k of Object.keys(o)) deepFreeze(o[k]);
  }
  return o;
}

export class SharedArray {
  constructor(name, fn) {
    if (typeof fn !== 'function') throw new TypeError('SharedArray needs a function that returns an array');
    const id = String(name);
    const length = n.sharedArray(id, () => {
      const arr = fn();
      if (!Array.isArray(arr)) throw new TypeError('SharedArray function must return an array');
      return arr.map((x) => JSON.stringify(x));
    });
    const get = (i) => deepFreeze(JSON.parse(n.sharedGet(id, i)));
    const index = (k) => (typeof k === 'string' && /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < length ? Number(k) : -1);
    const immutable = () => { throw new TypeError('SharedArray is immutable'); };
    // Like k6's dynamic array: a real array to Array.isArray, Object.keys and for-in (its indexes),
    // Array.prototype methods read through it, and every write throws k6's TypeError.
    return new Proxy([], {
      get(t, k, receiver) {
        if (k === 'length') return length;
        const i = index(k);
        if (i >= 0) return get(i);
        if (typeof k === 'string' && /^[0-9]+$/.test(k)) return undefined;
        if (k === Symbol.iterator) {
          return function* () { for (let j = 0; j < length; j++) yield get(j); };
        }
        return Reflect.get(t, k, receiver);
      },
      set: immutable,
      defineProperty: immutable,
      deleteProperty: immutable,
      has(t, k) { return k === 'length' || index(k) >= 0 || k in t; },
      ownKeys() { return [...Array.from({ length }, (_, i) => String(i)), 'length']; },
      getOwnPropertyDescriptor(t, k) {
        if (k === 'length') return { value: length, writable: true, enumerable: false, configurable: false };
        const i = index(k);
        return i >= 0 ? { value: get(i), writable: false, enumerable: true, configurable: true } : undefined;
      },
    });
  }
}

export default { SharedArray };
