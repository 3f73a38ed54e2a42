// exact: iterations http_reqs checks
// k6 exit: 0
// Exceptions inside an iteration (throw, fail(), a TypeError) end that iteration only; the test goes on
// and the exit code stays 0.
import http from 'k6/http';
import { check, fail } from 'k6';
import { url } from './lib/helpers.js';

export const options = { vus: 1, iterations: 9, thresholds: { checks: ['rate==1'] } };

export default function () {
  http.get(url('/'));
  check(__ITER, { 'reached': () => true });
  if (__ITER % 3 === 0) {
    throw new Error(`boom at ${__ITER}`);
  }
  if (__ITER === 4) {
    fail('failed on purpose');
  }
  if (__ITER === 8) {
    const missing = undefined;
    missing.property = 1;
  }
  check(__ITER, { 'after the throw': () => true });
}
