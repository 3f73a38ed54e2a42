// exact: iterations{scenario:shared} iterations{scenario:perVu} checks vus_max
// k6 exit: 0
// shared-iterations and per-vu-iterations with startTime, maxDuration, gracefulStop, exec, env, tags;
// a per-vu-iterations scenario cut by maxDuration reports dropped_iterations.
import http from 'k6/http';
import exec from 'k6/execution';
import { check, sleep } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  scenarios: {
    shared: {
      executor: 'shared-iterations', vus: 3, iterations: 9, maxDuration: '5s',
      exec: 'shared', env: { ROLE: 'shared' }, tags: { kind: 'shared' },
    },
    perVu: {
      executor: 'per-vu-iterations', vus: 2, iterations: 3, startTime: '500ms', gracefulStop: '1s',
      exec: 'perVu', env: { ROLE: 'pervu' }, tags: { kind: 'pervu' },
    },
    capped: {
      executor: 'per-vu-iterations', vus: 1, iterations: 100, maxDuration: '1s', gracefulStop: '0s',
      exec: 'slow',
    },
  },
  thresholds: {
    'iterations{scenario:shared}': ['count==9'],
    'iterations{kind:pervu}': ['count==6'],
    'http_reqs{kind:shared}': ['count==9'],
    'checks{scenario:perVu}': ['rate==1'],
    checks: ['rate==1'],
    'iterations{scenario:capped}': ['count>=2', 'count<=6'],
    'dropped_iterations{scenario:capped}': ['count>=90'],
  },
};

export function shared() {
  http.get(url('/'));
  check(__ENV.ROLE, { 'shared env': (r) => r === 'shared' });
}

export function perVu() {
  check(__ENV.ROLE, {
    'perVu env': (r) => r === 'pervu',
    'perVu started after startTime': () => exec.instance.currentTestRunDuration >= 450,
    'perVu scenario': () => exec.scenario.name === 'perVu',
  });
}

export function slow() {
  sleep(0.3);
}
