// An iteration that never yields: the interrupt handler must still stop it at gracefulStop.
export const options = {
  scenarios: { spin: { executor: 'constant-vus', vus: 2, duration: '1s', gracefulStop: '1s' } },
};
export default function () {
  for (;;) {
    try { Math.sqrt(2); } catch (e) { /* swallowing errors must not keep it alive */ }
  }
}
