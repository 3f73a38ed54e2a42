// exact: checks http_reqs iterations
// k6 exit: 0
// `rps`: a test-wide cap on requests per second (burst 1): six requests at rps 5 take at least a
// second (five gaps of 200 ms), redirects do not count as extra requests, and two VUs share the cap.
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;

export const options = {
  scenarios: { s: { executor: 'per-vu-iterations', vus: 2, iterations: 1 } },
  rps: 5,
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) {
    http.get(`${T}/`);
  }
  const ms = Date.now() - t0;
  // Two VUs, six requests at 5/s: whichever VU ends last waited at least four gaps.
  check(ms, { 'requests are spaced': (m) => m >= 390 });
  const t1 = Date.now();
  const r = http.get(`${T}/redirect/2`);
  check(r, { 'redirect followed': (x) => x.status === 200 });
  check(Date.now() - t1, { 'one wait for a redirect chain': (m) => m < 1500 });
}
