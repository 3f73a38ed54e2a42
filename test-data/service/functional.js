// A functional smoke test: one VU, one pass over the main endpoints.
import http from 'k6/http';
import { check } from 'k6';

const TARGET = __ENV.TARGET_URL;

export const options = {
  iterations: 1,
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const res = http.get(`${TARGET}/`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
