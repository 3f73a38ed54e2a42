import http from 'k6/http';
import { check, group } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
const c = new Counter('my_counter');
const g = new Gauge('my_gauge');
const r = new Rate('my_rate');
const t = new Trend('my_trend', true);
export const options = {
  vus: 2, iterations: 10,
  thresholds: {
    http_req_duration: ['p(95)<500', 'avg<300'],
    'http_req_duration{status:200}': ['p(99)<1000'],
    'http_req_duration{status:404}': ['max<1'],
    http_req_failed: ['rate<0.5'],
    my_counter: ['count>100'],
    checks: ['rate>0.1'],
  },
};
export default function () {
  group('api', function () {
    const res = http.get('http://127.0.0.1:18731/');
    check(res, { 'status is 200': (r) => r.status === 200, 'always false': () => false });
    group('inner', function () { check(1, { 'inner ok': () => true }); });
  });
  http.get('http://127.0.0.1:18731/status/500');
  c.add(3); g.add(__VU); r.add(__ITER % 3 === 0); t.add(__ITER * 1.5);
  check(2, { 'root check': () => __ITER % 2 == 0 });
}
