// exact: checks http_reqs
// k6 exit: 0
// `batch` bounds one http.batch call over all hosts: three 300 ms requests to three names with
// batch 2 take two rounds (at least 550 ms); answers keep request order.
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;
const port = T.split(':')[2];

export const options = {
  iterations: 1,
  batch: 2,
  hosts: { 'a.test': '127.0.0.1', 'b.test': '127.0.0.1', 'c.test': '127.0.0.1' },
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const t0 = Date.now();
  const rs = http.batch(['a', 'b', 'c'].map((h) => `http://${h}.test:${port}/delay/300`));
  const ms = Date.now() - t0;
  check(rs, { 'all answered': (x) => x.length === 3 && x.every((r) => r.status === 200) });
  check(ms, { 'two at a time': (m) => m >= 550 });
}
