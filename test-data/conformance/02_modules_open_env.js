// exact: iterations http_reqs checks
// k6 exit: 0
// ES modules with a relative import, open() text and binary, __ENV (-e and scenario env), __VU,
// __ITER and the init context running once per VU.
import http from 'k6/http';
import { check } from 'k6';
import greet, { url, sum, checkStatus } from './lib/helpers.js';

const text = open('./fixtures/users.json');
const bin = open('./fixtures/bytes.bin', 'b');
const users = JSON.parse(text);
const initVu = __VU; // the init context runs once per VU with its own __VU
let itersInThisVu = 0; // module state is per VU

export const options = {
  scenarios: {
    perVu: {
      executor: 'per-vu-iterations', vus: 3, iterations: 4,
      env: { SCENARIO_ENV: 'from-scenario' },
    },
  },
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  itersInThisVu++;
  check(null, {
    'relative import': () => greet('k6') === 'hello k6' && sum([1, 2, 3]) === 6,
    'open text': () => typeof text === 'string' && users.length === 3 && users[0].name === 'alice',
    'open binary': () => bin instanceof ArrayBuffer && bin.byteLength === 8 && new Uint8Array(bin)[7] === 255,
    'env from -e': () => __ENV.TARGET.startsWith('http://127.0.0.1:'),
    'env from scenario': () => __ENV.SCENARIO_ENV === 'from-scenario',
    'init ran in this VU': () => initVu === __VU,
    '__VU in range': () => __VU >= 1 && __VU <= 3,
    '__ITER counts per VU': () => __ITER === itersInThisVu - 1,
  });
  checkStatus(http.get(url('/')), 200);
}
