// Startup: one VU, one request to /mark (logged by nginx with a ms timestamp). Figure: time from
// process start to the first request reaching the target.
import http from 'k6/http';

const T = __ENV.TARGET || 'http://127.0.0.1:18080';

export const options = { vus: 1, iterations: 1 };

export default function () {
  http.get(`${T}/mark?tag=${__ENV.TAG || 'untagged'}`);
}
