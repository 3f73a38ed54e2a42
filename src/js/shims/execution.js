// k6/execution: live views of the VU, scenario, instance and test.
const n = globalThis.__k6;

const vuTags = new Proxy({}, {
  get(_, k) { return typeof k === 'string' ? n.vuTagGet(k) : undefined; },
  set(_, k, v) { n.vuTagSet(String(k), v); return true; },
  deleteProperty(_, k) { n.vuTagDelete(String(k)); return true; },
  has(_, k) { return n.vuTagGet(String(k)) !== undefined; },
  ownKeys() { return n.vuTagKeys(); },
  getOwnPropertyDescriptor(_, k) {
    const v = n.vuTagGet(String(k));
    return v === undefined ? undefined : { value: v, enumerable: true, configurable: true, writable: true };
  },
});

const vuMetadata = new Proxy({}, {
  get(_, k) { return typeof k === 'string' ? n.vuMetaGet(k) : undefined; },
  set(_, k, v) { n.vuMetaSet(String(k), v); return true; },
  deleteProperty(_, k) { n.vuMetaDelete(String(k)); return true; },
  has(_, k) { return n.vuMetaGet(String(k)) !== undefined; },
  ownKeys() { return n.vuMetaKeys(); },
  getOwnPropertyDescriptor(_, k) {
    const v = n.vuMetaGet(String(k));
    return v === undefined ? undefined : { value: v, enumerable: true, configurable: true, writable: true };
  },
});
const vuMetrics = { tags: vuTags, metadata: vuMetadata };

const exec = {
  get vu() {
    const v = n.execVu();
    v.tags = vuTags;
    v.metrics = vuMetrics;
    return v;
  },
  get scenario() { return n.execScenario(); },
  get instance() { return n.execInstance(); },
  test: {
    abort(msg) { n.abort(msg === undefined ? '' : String(msg)); },
    fail(msg) { n.testFail(msg === undefined ? '' : String(msg)); },
    get options() { return JSON.parse(n.execOptions()); },
  },
};

function live(fn) {
  return new Proxy({}, {
    get(_, k) { return fn()[k]; },
    has(_, k) { return k in fn(); },
    ownKeys() { return Reflect.ownKeys(fn()); },
    getOwnPropertyDescriptor(_, k) {
      const o = fn();
      return k in o ? { value: o[k], enumerable: true, configurable: true } : undefined;
    },
  });
}

export const vu = live(() => exec.vu);
export const scenario = live(() => exec.scenario);
export const instance = live(() => exec.instance);
export const test = exec.test;
export default exec;
