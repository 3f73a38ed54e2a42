// k6 exit: 0
// The `vus` gauge of an arrival-rate executor counts only the VUs running an iteration (k6's
// activeVUPool), not the 20 pre-allocated idle ones; vus_max counts all 20. Inside an iteration,
// exec.instance.vusActive sees the same count (at least this VU).
// The duration (2.1 s) is not a multiple of the 250 ms period: k6 itself races an iteration that
// falls exactly on the end of duration (8 or 9), so the count is exact only off that boundary.
// exact: iterations
import exec from 'k6/execution';
import { check, sleep } from 'k6';

export const options = {
  scenarios: {
    car: {
      executor: 'constant-arrival-rate', rate: 4, timeUnit: '1s', duration: '2100ms',
      preAllocatedVUs: 20, maxVUs: 20,
    },
  },
  thresholds: {
    vus: ['value<=5'],
    vus_max: ['value==20'],
    'checks{c:active}': ['rate==1'],
  },
};

export default function () {
  const active = exec.instance.vusActive;
  check(active, { 'some but not all VUs active': (n) => n >= 1 && n <= 5 }, { c: 'active' });
  sleep(0.1);
}
