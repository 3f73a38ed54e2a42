// exact: iterations checks
// k6 exit: 0
// Top-level await on a timer (in the script and in a module it imports): the init context waits
// for the timers, as k6 v1 does, and the exports are those set after the awaits.
import { check } from 'k6';
import { ready } from './lib/late_value.js';

export const options = { vus: 2, iterations: 4, thresholds: { checks: ['rate==1'] } };

const started = Date.now();
await new Promise((resolve) => setTimeout(resolve, 30));
const waited = Date.now() - started;
const config = await Promise.resolve({ path: '/get' });
let ticks = 0;
await new Promise((resolve) => {
  const id = setInterval(() => {
    ticks++;
    if (ticks === 2) {
      clearInterval(id);
      resolve();
    }
  }, 5);
});

export default function () {
  check(waited, { 'init waited for the timer': (ms) => ms >= 25 });
  check(ready, { 'imported module finished its await': (v) => v === 'yes' });
  check(config.path, { 'awaited value kept': (p) => p === '/get' });
  check(ticks, { 'interval ticked twice in init': (t) => t === 2 });
}
