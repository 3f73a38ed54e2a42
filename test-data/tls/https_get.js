// One GET to an https URL signed by a CA made by the test (tests/it/tls_trust.rs).
import http from 'k6/http';
export const options = { iterations: 1 };
export default function () {
  const res = http.get(__ENV.TARGET);
  console.log(`status=${res.status} error_code=${res.error_code}`);
}
