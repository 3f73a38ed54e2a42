// jslib's k6-summary and k6-utils, imported by their usual URLs: offline (and when the fetch fails)
// loadgate serves built-in copies
// (no network needed), so handleSummary scripts written for k6 run unchanged.
import { check } from 'k6';
import { textSummary, jUnit } from 'https://jslib.k6.io/k6-summary/0.0.2/index.js';
import { randomIntBetween, randomItem, uuidv4, findBetween } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';

export const options = { iterations: 3, thresholds: { checks: ['rate==1'] } };

export default function () {
  const n = randomIntBetween(2, 4);
  check(n, {
    'randomIntBetween in range': (v) => v >= 2 && v <= 4 && Number.isInteger(v),
    'randomItem picks one': () => ['a', 'b'].includes(randomItem(['a', 'b'])),
    'uuidv4 shape': () => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuidv4()),
    'findBetween': () => findBetween('<b>x</b><b>y</b>', '<b>', '</b>', true).join() === 'x,y',
  });
}

export function handleSummary(data) {
  return {
    stdout: textSummary(data, { indent: ' ', enableColors: false }),
    [__ENV.JUNIT_FILE]: jUnit(data),
  };
}
