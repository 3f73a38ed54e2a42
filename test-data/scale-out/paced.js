// 3 VUs, 20 iterations each, 0.3s apart: 60 requests over about 6s.
import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  scenarios: {
    paced: { executor: 'per-vu-iterations', vus: 3, iterations: 20, maxDuration: '60s' },
  },
};

export default function () {
  const res = http.get(`${__ENV.TARGET_URL}/echo`);
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(0.3);
}
