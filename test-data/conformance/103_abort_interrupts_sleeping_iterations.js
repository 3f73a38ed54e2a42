// k6 exit: 99
// writes: 103_abort_interrupts_sleeping_iterations.out.json
// abortOnFail stops the test while both VUs sleep: their iterations are interrupted, so k6 emits
// no `iterations` and no `iteration_duration` (loadgate used to count them: the sleep returns and
// the function finishes). handleSummary writes the metric names, compared with k6's.
import { check, sleep } from 'k6';

export const options = {
  vus: 2,
  duration: '10s',
  thresholds: { checks: [{ threshold: 'rate==1', abortOnFail: true }] },
};

export default function () {
  check(1, { 'always fails': () => false });
  sleep(8);
}

export function handleSummary(data) {
  return {
    '103_abort_interrupts_sleeping_iterations.out.json': JSON.stringify(Object.keys(data.metrics).sort()),
  };
}
