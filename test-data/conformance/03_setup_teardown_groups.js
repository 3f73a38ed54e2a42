// exact: iterations http_reqs checks
// k6 exit: 0
// setup() data passed (JSON-cloned) to iterations and teardown(data); nested groups; sleep, fail,
// randomSeed from the k6 module.
import http from 'k6/http';
import { check, group, sleep, fail, randomSeed } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  vus: 2,
  iterations: 6,
  thresholds: {
    checks: ['rate==1'],
    'http_reqs{group:::outer::inner}': ['count==6'],
    'checks{group:::outer}': ['rate==1'],
    'group_duration{group:::outer}': ['max<10000'],
    iterations: ['count==6'],
  },
};

export function setup() {
  const res = http.get(url('/json'));
  return { name: res.json('name'), n: res.json('nested.n'), list: [1, 2], gone: undefined };
}

export default function (data) {
  check(data, {
    'setup data passed': (d) => d.name === 'conformance' && d.n === 42 && d.list.length === 2,
    'setup data is JSON round-tripped (undefined becomes null)': (d) => d.gone === null,
  });
  const v = group('outer', function () {
    check(1, { 'in outer': (x) => x === 1 });
    group('inner', function () {
      check(http.get(url('/')), { 'inner request ok': (r) => r.status === 200 });
    });
    return 7;
  });
  check(v, { 'group returns its value': (x) => x === 7 });

  randomSeed(42);
  const a = Math.random();
  randomSeed(42);
  check(a, { 'randomSeed is repeatable': (x) => x === Math.random() });

  const t0 = Date.now();
  sleep(0.05);
  check(t0, { 'sleep waits': (t) => Date.now() - t >= 40 });

  try {
    fail('deliberate');
    check(null, { 'fail throws': () => false });
  } catch (e) {
    check(e, { 'fail throws': (err) => String(err).includes('deliberate') });
  }
}

export function teardown(data) {
  check(data, { 'teardown sees setup data': (d) => d.n === 42 && d.name === 'conformance' });
}
