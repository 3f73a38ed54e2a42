// exact: iterations checks
// k6 exit: 108
// exec.test.abort() stops the whole test from inside an iteration: exit code 108.
import exec from 'k6/execution';
import { check } from 'k6';

export const options = { vus: 1, iterations: 10 };

export default function () {
  check(__ITER, { 'before abort': () => true });
  if (__ITER === 2) {
    exec.test.abort('stopping on purpose');
  }
}
