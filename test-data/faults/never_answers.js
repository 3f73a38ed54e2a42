// A server that accepts and never answers: the request times out (k6: error code 1050).
import http from 'k6/http';
export const options = { iterations: 1 };
export default function () {
  const res = http.get(__ENV.TARGET, { timeout: '500ms' });
  console.log(`status=${res.status} error_code=${res.error_code} error=${res.error}`);
}
