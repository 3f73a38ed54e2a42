// A small test for the remote-write integration tests: 2 VUs, 200s and some 503s, one check.
import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 2,
  duration: __ENV.DURATION || '2s',
  thresholds: { http_req_duration: ['p(95)<5000'] },
};

export default function () {
  const res = http.get(`${__ENV.TARGET}/`);
  check(res, { 'status is 200': (r) => r.status === 200 });
  if (__ITER % 4 === 0) {
    http.get(`${__ENV.TARGET}/status/503`);
  }
  sleep(0.05);
}
