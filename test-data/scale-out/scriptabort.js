// VU 3 of the test (the last segment's, on a runner) aborts the whole test in its third
// iteration; the others would run for 60s.
import http from 'k6/http';
import exec from 'k6/execution';
import { sleep } from 'k6';

export const options = { vus: 3, duration: '60s' };

export default function () {
  http.get(`${__ENV.TARGET_URL}/`);
  if (exec.vu.idInTest === 3 && exec.vu.iterationInScenario === 2) {
    exec.test.abort('VU 3 asked to stop');
  }
  sleep(0.2);
}
