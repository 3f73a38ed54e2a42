// exact: iterations checks
// k6 exit: 0
// Timers in k6 v1: a Promise around setTimeout awaited in an async iteration, setInterval cleared
// after three ticks, and a timer left running when the function returns (the iteration waits).
import { check, sleep } from 'k6';
import { setTimeout as st } from 'k6/timers';

export const options = { vus: 1, iterations: 2, thresholds: { checks: ['rate==1'] } };

const pause = (ms) => new Promise((resolve) => st(resolve, ms));

export default async function () {
  const started = Date.now();
  await pause(50);
  check(Date.now() - started, { 'awaited timer waited': (ms) => ms >= 45 });

  let ticks = 0;
  await new Promise((resolve) => {
    const id = setInterval(() => {
      ticks++;
      if (ticks === 3) {
        clearInterval(id);
        resolve();
      }
    }, 10);
  });
  check(ticks, { 'interval ticked three times': (t) => t === 3 });

  let late = false;
  setTimeout(() => {
    late = true;
    check(late, { 'timer after return ran': (v) => v === true });
  }, 20);
  const cancelled = setTimeout(() => check(false, { 'cleared timer never runs': (v) => v }), 5);
  clearTimeout(cancelled);
  sleep(0.01);
}
