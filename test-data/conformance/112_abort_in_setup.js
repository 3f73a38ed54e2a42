// exact: http_reqs checks
// k6 exit: 108
// writes: 112_abort_in_setup.out.json
// exec.test.abort() in setup(): k6 exits 108, and thresholds, the summary export and
// handleSummary (which sees setup's samples) are still produced; no iteration and no teardown.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';

export const options = {
  vus: 2,
  duration: '5s',
  thresholds: { http_reqs: ['count==2'], checks: ['rate==1'] },
};

export function setup() {
  http.get(`${__ENV.TARGET}/`);
  http.get(`${__ENV.TARGET}/status/404`);
  check(1, { 'before the abort': () => true });
  exec.test.abort('stop in setup');
}

export default function () {
  http.get(`${__ENV.TARGET}/`);
}

export function teardown() {
  http.get(`${__ENV.TARGET}/`);
}

export function handleSummary(data) {
  const m = data.metrics;
  return {
    '112_abort_in_setup.out.json': JSON.stringify({
      reqs: m.http_reqs.values.count,
      failed: m.http_req_failed.values.passes,
      checks: m.checks.values.passes,
      iterations: m.iterations === undefined ? 'none' : m.iterations.values.count,
      thresholdOk: m.http_reqs.thresholds['count==2'].ok,
    }),
  };
}
