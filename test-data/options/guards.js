// The connection options set from outside the script (flags, K6_* variables or a config file):
// the run passes only if each of them took effect. Used by tests/it/cli_options.rs.
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;
const port = T.split(':')[2];

export const options = {
  iterations: 1,
  hosts: { 'a.blocked.test': '127.0.0.1', 'banned.test': '127.0.0.2' },
  thresholds: {
    checks: ['rate==1'],
    // systemTags from outside drop the scenario tag, so this sub-metric sees nothing.
    'http_reqs{scenario:default}': ['count==0'],
  },
};

export default function () {
  const t0 = Date.now();
  check(http.get(`http://a.blocked.test:${port}/`), { blockHostnames: (r) => r.error_code === 1111 });
  check(http.get(`http://banned.test:${port}/`), { blacklistIPs: (r) => r.error_code === 1110 });
  const peers = new Set();
  for (let i = 0; i < 3; i++) {
    peers.add(http.get(`${T}/conn`).json('peer'));
  }
  check(peers, { noConnectionReuse: (p) => p.size === 3 });
  const t1 = Date.now();
  http.batch([`${T}/delay/300`, `${T}/delay/300`]);
  check(Date.now() - t1, { batchPerHost: (m) => m >= 550 });
  // Seven requests at rps 5: at least six gaps of 200 ms.
  check(Date.now() - t0, { rps: (m) => m >= 1150 });
}
