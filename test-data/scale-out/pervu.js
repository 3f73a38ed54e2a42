// 6 VUs, 4 iterations each: 24 requests whatever the split.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    each: { executor: 'per-vu-iterations', vus: 6, iterations: 4, maxDuration: '60s' },
  },
};

export default function () {
  const res = http.get(`${__ENV.TARGET_URL}/echo`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
