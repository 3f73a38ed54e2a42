// Closed port, unknown host and timeout are failed requests (status 0, k6's error codes), never
// a crash; thresholds see them as failed.
import http from 'k6/http';
import { check } from 'k6';

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate==1'], checks: ['rate==1'] } };

export default function () {
  const refused = http.get('http://127.0.0.1:1/');
  const unknown = http.get('http://no-such-host.invalid/');
  const slow = http.get(`${__ENV.TARGET}/delay/3000`, { timeout: '200ms' });
  check(refused, { 'refused is 1212': (r) => r.status === 0 && r.error_code === 1212 });
  check(unknown, { 'unknown host is 1101': (r) => r.status === 0 && r.error_code === 1101 });
  check(slow, { 'timeout is 1050': (r) => r.status === 0 && r.error_code === 1050 });
}
