// exec.vu.metrics.metadata on the samples of -o json (tests/it/cli_json_output.rs compares with k6).
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
const c = new Counter('my_counter');
export const options = { iterations: 2 };
export default function () {
  if (exec.scenario.iterationInTest === 0) {
    check(1, { 'before': () => true });
    exec.vu.metrics.metadata['trace_id'] = 'abc';
    exec.vu.metrics.metadata['n'] = 5;
  } else {
    delete exec.vu.metrics.metadata['n'];
  }
  c.add(1);
  check(1, { 'after': () => true });
}
