// exact: checks http_reqs http_reqs{error_code:1111}
// k6 exit: 0
// `blockHostnames`: exact and `*.` patterns, case-insensitive, checked before `hosts` and on every
// redirect hop (a redirect from an allowed name to a blocked one fails on the second hop, 1111).
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;
const port = T.split(':')[2];

export const options = {
  iterations: 1,
  blockHostnames: ['*.blocked.test', 'exact.test'],
  hosts: {
    'allowed.test': '127.0.0.1',
    'exact.test': '127.0.0.1',
    'a.blocked.test': '127.0.0.1',
    'blocked.test': '127.0.0.1',
  },
  thresholds: { checks: ['rate==1'], 'http_reqs{error_code:1111}': ['count==3'] },
};

export default function () {
  const ok = http.get(`http://allowed.test:${port}/`);
  check(ok, { 'allowed name sent': (r) => r.status === 200 });
  const exact = http.get(`http://EXACT.test:${port}/`);
  check(exact, {
    'exact pattern blocks': (r) => r.status === 0 && r.error_code === 1111 && r.error === 'hostname is blocked',
  });
  check(http.get(`http://a.blocked.test:${port}/`), { 'wildcard blocks': (r) => r.error_code === 1111 });
  check(http.get(`http://blocked.test:${port}/`), { '*.x does not block x': (r) => r.status === 200 });
  check(http.get(`http://127.0.0.1:${port}/`), { 'IP literals are never blocked': (r) => r.status === 200 });
  const hop = http.get(`http://allowed.test:${port}/redirect-to?url=${encodeURIComponent(`http://a.blocked.test:${port}/`)}`);
  check(hop, {
    'redirect to a blocked name fails on that hop': (r) => r.status === 0 && r.error_code === 1111,
  });
}
