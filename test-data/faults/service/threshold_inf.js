// A threshold whose delayAbortEval is no Go duration ('inf'): it panicked the job task, so the
// .finished never went out. k6 runs the test (exit 0); so must the service, and answer.
import http from 'k6/http';
export const options = {
  iterations: 1,
  thresholds: { http_reqs: [{ threshold: 'count>0', abortOnFail: true, delayAbortEval: 'inf' }] },
};
export default function () { http.get(__ENV.TARGET_URL); }
