// Numbers no duration can hold: each call must behave as a very long wait that the scenario's end
// interrupts (they panicked on a VU worker, and the dead VU then span at 100% CPU).
import http from 'k6/http';
import { sleep } from 'k6';
export const options = {
  scenarios: {
    sleep: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '1s', gracefulStop: '0s', exec: 'longSleep' },
    timer: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '1s', gracefulStop: '0s', exec: 'longTimer' },
    request: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '1s', gracefulStop: '0s', exec: 'longRequest' },
  },
};
export function longSleep() { sleep(1e20); }
export function longTimer() { setTimeout(() => console.log('never'), 1e30); }
export function longRequest() { http.get(`${__ENV.TARGET}/delay/3000`, { timeout: 1e22 }); }
