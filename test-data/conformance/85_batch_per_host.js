// exact: checks http_reqs
// k6 exit: 0
// `batchPerHost` and `batch` bound http.batch: three 300 ms requests to one host with
// batchPerHost 1 run one after another (at least 850 ms), to two hosts two at a time; with the
// defaults they overlap. Time bounds are lower bounds (or generous), safe on a loaded machine.
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;
const port = T.split(':')[2];

export const options = {
  iterations: 1,
  batchPerHost: 1,
  hosts: { 'other.test': '127.0.0.1' },
  thresholds: { checks: ['rate==1'] },
};

function timed(reqs) {
  const t0 = Date.now();
  const rs = http.batch(reqs);
  return { ms: Date.now() - t0, ok: rs.every((r) => r.status === 200) };
}

export default function () {
  const one = timed([`${T}/delay/300`, `${T}/delay/300`, `${T}/delay/300`]);
  check(one, { 'one host, one at a time': (r) => r.ok && r.ms >= 850 });
  const two = timed([`${T}/delay/300`, `http://other.test:${port}/delay/300`]);
  check(two, { 'two hosts, in parallel': (r) => r.ok && r.ms < 590 });
  const order = http.batch([`${T}/delay/50`, `${T}/status/201`, `${T}/status/202`]);
  check(order, { 'answers in request order': (rs) => rs[0].status === 200 && rs[1].status === 201 && rs[2].status === 202 });
}
