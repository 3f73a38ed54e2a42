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
    const target = [];
    return new Proxy(target, {
      get(t, k) {
        if (k === 'length') return length;
        if (typeof k === 'string' && /^[0-9]+$/.test(k)) {
          const i = Number(k);
          return i < length ? get(i) : undefined;
        }
        if (k === Symbol.iterator) {
          return function* () { for (let i = 0; i < length; i++) yield get(i); };
        }
        if (typeof Array.prototype[k] === 'function') {
          return (...args) => Array.from({ length }, (_, i) => get(i))[k](...args);
        }
        return undefined;
      },
      set() { throw new TypeError('SharedArray is read-only'); },
      has(t, k) { return k === 'length' || (typeof k === 'string' && /^[0-9]+$/.test(k) && Number(k) < length); },
    });
  }
}

export default { SharedArray };
