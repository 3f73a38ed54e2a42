// exact: http_reqs checks iterations
// k6 exit: 107
// fail() in setup(): k6 exits 107 but still judges thresholds and writes the summary and the
// --summary-export (with setup's own request and check); no iteration and no teardown run. A
// failing threshold does not change the exit code.
import http from 'k6/http';
import { check, fail } from 'k6';

export const options = {
  iterations: 2,
  thresholds: { http_reqs: ['count==1'], checks: ['rate==1'], iterations: ['count==0'], data_sent: ['count<0'] },
};

export function setup() {
  http.get(`${__ENV.TARGET}/`);
  check(1, { 'setup ran': () => true });
  fail('setup broke');
}

export default function () {
  http.get(`${__ENV.TARGET}/`);
}

export function teardown() {
  http.get(`${__ENV.TARGET}/`);
}
