// `localIPs` from K6_LOCAL_IPS / --local-ips: VU n's connections come from address n of the pool
// (the target sees it as the peer). Used by tests/it/cli_options.rs.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: { s: { executor: 'per-vu-iterations', vus: 3, iterations: 1 } },
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const peer = http.get(`${__ENV.TARGET}/conn`).json('peer');
  const want = ['127.0.0.5', '127.0.0.6', '127.0.0.5'][__VU - 1];
  check(peer, { 'VU bound to its pool address': (p) => p.split(':')[0] === want });
}
