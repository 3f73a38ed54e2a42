// k6 exit: 99
// abortOnFail with delayAbortEval: the failing threshold stops a 30 s test after about 2 s.
import http from 'k6/http';
import { sleep } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  vus: 2,
  duration: '30s',
  thresholds: {
    http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: '1s' }],
    http_reqs: ['count<200'],
  },
};

export default function () {
  http.get(url('/status/503'));
  sleep(0.1);
}
