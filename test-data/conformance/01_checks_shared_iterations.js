// exact: iterations http_reqs checks http_req_failed
// k6 exit: 0
// shared-iterations, check() on responses, sub-metric thresholds on system tags.
import http from 'k6/http';
import { check } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  scenarios: {
    main: { executor: 'shared-iterations', vus: 5, iterations: 50, maxDuration: '10s' },
  },
  thresholds: {
    http_req_failed: ['rate<0.6'],
    checks: ['rate==1'],
    'http_reqs{status:404}': ['count==50'],
    'http_reqs{expected_response:true}': ['count==50'],
    'http_req_duration{expected_response:true}': ['max<5000'],
  },
};

export default function () {
  const ok = http.get(url('/status/200'));
  const missing = http.get(url('/status/404'));
  check(ok, { 'ok is 200': (r) => r.status === 200 });
  check(missing, { 'missing is 404': (r) => r.status === 404, 'empty body': (r) => r.body === '' });
}
