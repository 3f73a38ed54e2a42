// The quick start: a small load test with checks, a group, a custom metric and thresholds.
// Run it against the built-in target: `loadgate run --local-target test-data/scripts/quickstart.js`,
// or against your own service: `loadgate run -e TARGET=http://127.0.0.1:8080 quickstart.js`.
import http from 'k6/http';
import { check, group, sleep } from 'k6';
import { Trend } from 'k6/metrics';

const T = __ENV.TARGET || 'http://127.0.0.1:8099';
const jsonTime = new Trend('json_time', true);

export const options = {
  scenarios: {
    browse: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '2s', target: 10 }, { duration: '3s', target: 10 }] },
    api: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '5s', preAllocatedVUs: 5, exec: 'api' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
    'checks{scenario:api}': ['rate==1'],
  },
};

export default function () {
  group('home', () => {
    const res = http.get(`${T}/`);
    check(res, { 'home is 200': (r) => r.status === 200 });
  });
  sleep(0.5);
}

export function api() {
  const res = http.get(`${T}/json`, { tags: { name: 'json' } });
  jsonTime.add(res.timings.duration);
  check(res, {
    'json is 200': (r) => r.status === 200,
    'json has items': (r) => r.json('items.#') === 3,
  });
}
