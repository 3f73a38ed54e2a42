// exact: iterations checks http_reqs
// k6 exit: 0
// k6 v1 runs async functions: an async default function with await, http.asyncRequest, an async
// setup; an exception in an awaited call ends that iteration only. The rejected iteration is the
// test's second (iterationInTest), not each VU's second (__ITER): how 6 shared iterations fall on
// 2 VUs depends on timing, in k6 too, so __ITER made the exact check count flaky.
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';

const T = __ENV.TARGET;

export const options = { vus: 2, iterations: 6, thresholds: { checks: ['rate==1'] } };

export async function setup() {
  const v = await Promise.resolve(41);
  return { answer: v + 1 };
}

async function fetchJson() {
  const res = await http.asyncRequest('GET', `${T}/json`);
  return res.json();
}

export default async function (data) {
  const doc = await fetchJson();
  check(doc, { 'awaited json': (d) => d.name === 'conformance' });
  check(data, { 'async setup data': (d) => d.answer === 42 });
  const n = await new Promise((resolve) => resolve(exec.scenario.iterationInTest));
  if (n === 1) {
    await Promise.reject(new Error('rejected on purpose'));
  }
  check(n, { 'after await': (v) => v !== 1 });
}
