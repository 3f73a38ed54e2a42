// An iteration that never yields, with a try/catch that would swallow an interrupt.
export const options = {
  scenarios: { spin: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '1s', gracefulStop: '0s' } },
};
export default function () {
  for (;;) { try { JSON.parse('{'); } catch (e) { /* keep going */ } }
}
