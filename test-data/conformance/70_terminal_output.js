// exact: vus_max
// k6 exit: 0
// Three executors side by side, one starting late: the terminal output (banner aside) is compared
// with k6's by tests/it/cli_terminal.rs: the execution header, the periodic `running (...)` frames
// when stdout is not a terminal, and the last frame with a ✓ per scenario.
import { sleep } from 'k6';

export const options = {
  scenarios: {
    looping: { executor: 'constant-vus', vus: 2, duration: '2s' },
    late: { executor: 'shared-iterations', vus: 1, iterations: 3, startTime: '1500ms', maxDuration: '20s' },
    each: { executor: 'per-vu-iterations', vus: 2, iterations: 2, gracefulStop: '5s' },
  },
  thresholds: { vus_max: ['value==5'] },
};

export default function () {
  console.log(`iteration ${__ITER} of VU ${__VU}`);
  sleep(0.4);
}
