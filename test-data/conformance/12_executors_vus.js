// exact: vus_max
// k6 exit: 0
// constant-vus and ramping-vus (gracefulRampDown, gracefulStop, startTime) overlapping: vus_max is the
// sum of both scenarios' peaks.
import http from 'k6/http';
import { sleep } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  scenarios: {
    constant: { executor: 'constant-vus', vus: 2, duration: '2s', gracefulStop: '500ms', exec: 'work', tags: { kind: 'constant' } },
    ramping: {
      executor: 'ramping-vus', startVUs: 0, startTime: '500ms', gracefulRampDown: '200ms', gracefulStop: '500ms',
      stages: [{ duration: '1s', target: 4 }, { duration: '1s', target: 0 }], exec: 'work',
    },
  },
  thresholds: {
    vus_max: ['value==6'],
    vus: ['value<=6'],
    http_req_failed: ['rate==0'],
    'iterations{kind:constant}': ['count>=8', 'count<=30'],
    'iterations{scenario:ramping}': ['count>=4'],
  },
};

export function work() {
  http.get(url('/delay/50'));
  sleep(0.15);
}
