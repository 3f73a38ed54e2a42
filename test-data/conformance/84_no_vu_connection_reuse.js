// exact: checks http_reqs iterations
// k6 exit: 0
// `noVUConnectionReuse`: connections are kept within an iteration and closed between iterations
// (three iterations of three requests: one client port per iteration, three in all).
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';

const T = __ENV.TARGET;

export const options = {
  scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 3 } },
  noVUConnectionReuse: true,
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const peers = new Set();
  for (let i = 0; i < 3; i++) {
    peers.add(http.get(`${T}/conn`).json('peer'));
  }
  check(peers, { 'one connection within an iteration': (p) => p.size === 1 });
  globalThis.allPeers = (globalThis.allPeers || new Set()).add([...peers][0]);
  if (exec.vu.iterationInScenario === 2) {
    check(globalThis.allPeers, { 'a new connection each iteration': (s) => s.size === 3 });
  }
}
