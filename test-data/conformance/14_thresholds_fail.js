// exact: iterations http_reqs http_req_failed checks
// k6 exit: 99
// Failing thresholds (a Rate, a sub-metric, checks) next to passing ones: exit code 99.
import http from 'k6/http';
import { check } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  iterations: 10,
  vus: 2,
  thresholds: {
    http_req_failed: ['rate<0.1'],
    http_req_duration: ['p(95)<10000', 'avg<10000'],
    'http_reqs{status:500}': ['count==10', 'count<5'],
    checks: ['rate>0.9'],
    iterations: ['count==10'],
  },
};

export default function () {
  const res = http.get(url('/status/500'));
  check(res, { 'is 200': (r) => r.status === 200 });
}
