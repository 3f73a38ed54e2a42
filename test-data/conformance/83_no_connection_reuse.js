// exact: checks http_reqs
// k6 exit: 0
// `noConnectionReuse`: every request opens a new connection (five requests, five client ports at
// the target, each sent with `Connection: close`).
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;

export const options = { iterations: 1, noConnectionReuse: true, thresholds: { checks: ['rate==1'] } };

export default function () {
  const peers = new Set();
  for (let i = 0; i < 5; i++) {
    peers.add(http.get(`${T}/conn`).json('peer'));
  }
  check(peers, { 'five requests, five connections': (p) => p.size === 5 });
  check(http.get(`${T}/echo`), { 'Connection: close sent': (r) => r.json('headers.connection') === 'close' });
}
