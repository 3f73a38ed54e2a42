// k6 exit: 0
// constant-arrival-rate with too few VUs (dropped_iterations) and ramping-arrival-rate (0 -> 20/s in
// 1 s, then 20/s for 1 s: about 30 iterations).
import http from 'k6/http';
import { sleep } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  scenarios: {
    car: {
      executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s',
      preAllocatedVUs: 1, maxVUs: 1, exec: 'slow',
    },
    rar: {
      executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 5, maxVUs: 10,
      stages: [{ target: 20, duration: '1s' }, { target: 20, duration: '1s' }], exec: 'fast',
    },
  },
  thresholds: {
    'iterations{scenario:rar}': ['count>=28', 'count<=31'],
    'iterations{scenario:car}': ['count>=5', 'count<=13'],
    'dropped_iterations{scenario:car}': ['count>=20'],
    'dropped_iterations{scenario:rar}': ['count==0'],
  },
};

export function slow() {
  http.get(url('/'));
  sleep(0.2);
}

export function fast() {
  http.get(url('/'));
}
