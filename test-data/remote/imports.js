// A remote module (with relative, root-relative and built-in imports of its own) imported by 3
// VUs: fetched once per test, the same exports in every VU.
import lib, { greet, name } from '{{MODULES}}/lib/v1/index.js';
import { check } from 'k6';

export const options = { vus: 3, iterations: 6, thresholds: { checks: ['rate==1'] } };

export default function () {
  check(null, {
    'named export': () => greet('x') === 'hello x!',
    'constant': () => name === 'remote-lib',
    'default export': () => lib.greet('y') === 'hello y!',
  });
}
