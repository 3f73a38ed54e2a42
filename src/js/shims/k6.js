// k6: check, group, sleep, fail, randomSeed.
const n = globalThis.__k6;

// k6's common.IsAsyncFunction: the value's constructor is named AsyncFunction.
function isAsync(v) {
  if (v === null || v === undefined) return false;
  const c = Object(v).constructor;
  return c !== null && c !== undefined && String(Object(c).name) === 'AsyncFunction';
}

export function check(value, checks, tags) {
  let all = true;
  for (const name of Object.keys(checks)) {
    const c = checks[name];
    if (isAsync(c)) {
      throw new Error('the built-in check() does not support async functions as arguments. ' +
        'Use the JavaScript utils library as a replacement. ' +
        'Refer to https://grafana.com/docs/k6/latest/javascript-api/jslib/utils/check/ for more info');
    }
    let ok;
    if (typeof c === 'function') {
      try {
        ok = !!c(value);
      } catch (e) {
        n.check(name, false, tags);
        throw e;
      }
    } else {
      ok = !!c;
    }
    n.check(name, ok, tags);
    if (!ok) all = false;
  }
  return all;
}

export function group(name, fn) {
  if (isAsync(fn)) {
    throw new Error('group() does not support async functions as arguments, ' +
      'please see https://grafana.com/docs/k6/latest/javascript-api/k6/group/ for more info');
  }
  n.groupEnter(name);
  try {
    return fn();
  } finally {
    n.groupExit();
  }
}

export function sleep(seconds) {
  n.sleep(Number(seconds));
}

export function fail(msg) {
  throw new Error(msg === undefined ? 'fail' : String(msg));
}

export function randomSeed(seed) {
  let s = (Number(seed) >>> 0) || 1;
  Math.random = function () {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default { check, group, sleep, fail, randomSeed };
