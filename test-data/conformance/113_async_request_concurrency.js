// exact: checks http_reqs
// k6 exit: 0
// http.asyncRequest runs its requests concurrently while the script goes on (k6 makes them on
// goroutines and settles the Promises on the event loop): Promise.all of three 400 ms requests
// takes one request's time, not three (the bound is generous: one after another is >= 1200 ms),
// Promise.race returns the fastest whatever its place in the array, and the Promises settle in
// the order the answers arrive. A refused connection resolves with its error (no `throw`), and
// so does a request that cannot be built (k6 logs it and sends nothing). Samples carry the group the request
// was made in (k6 takes the tags when the request is made), even though they settle after it;
// group() and check() refuse async functions.
import http from 'k6/http';
import { check, group } from 'k6';

const T = __ENV.TARGET;
// A port nobody listens on: the target's own port + 1 is not guaranteed free, port 1 is.
const CLOSED = 'http://127.0.0.1:1/';

export const options = {
  iterations: 1,
  thresholds: {
    checks: ['rate==1'],
    'http_reqs{group:::fan out}': ['count==3'],
  },
};

export default async function () {
  let t0 = Date.now();
  let rs;
  const pending = group('fan out', () => [
    http.asyncRequest('GET', `${T}/delay/400`),
    http.asyncRequest('GET', `${T}/delay/400`),
    http.asyncRequest('GET', `${T}/delay/400`),
  ]);
  rs = await Promise.all(pending);
  const allMs = Date.now() - t0;
  check(rs, { 'all three answered': (a) => a.length === 3 && a.every((r) => r.status === 200) });
  check(allMs, { 'Promise.all takes one request time, not three': (ms) => ms >= 390 && ms < 1100 });

  const order = [];
  const track = (p, label) => p.then((r) => { order.push(label); return r; });
  const slow = track(http.asyncRequest('GET', `${T}/delay/900`), 'slow');
  const fast = track(http.asyncRequest('GET', `${T}/delay/20`), 'fast');
  const mid = track(http.asyncRequest('GET', `${T}/delay/400`), 'mid');
  const first = await Promise.race([slow, mid, fast]);
  check(first, { 'race returns the fastest': (r) => r.url.endsWith('/delay/20') });
  await Promise.all([slow, mid, fast]);
  check(order, { 'settled in order of arrival': (o) => o.join(',') === 'fast,mid,slow' });

  const before = [];
  const p = http.asyncRequest('GET', `${T}/status/204`).then((r) => { before.push('answer'); return r; });
  before.push('after the call');
  const r204 = await p;
  check(before, { 'the script goes on before the answer': (b) => b.join(',') === 'after the call,answer' });
  check(r204, { 'status 204': (r) => r.status === 204 });

  const refused = await http.asyncRequest('GET', CLOSED);
  check(refused, { 'refused resolves with its error': (r) => r.status === 0 && r.error_code === 1212 });

  const bad = await http.asyncRequest('GET', `${T}/`, null, { responseType: 'nope' });
  check(bad, {
    'bad params resolve with the error, nothing sent': (r) => r.status === 0 && r.error_code === 0 &&
      r.error === 'nope does not belong to ResponseType values',
  });
  const badSync = http.get(`${T}/`, { timeout: 'soon' });
  check(badSync, { 'the same for a synchronous request': (r) => r.status === 0 && r.error.startsWith('invalid timeout value') });

  let groupErr = '';
  try {
    group('async', async () => {});
  } catch (e) {
    groupErr = String(e.message || e);
  }
  check(groupErr, { 'group refuses async functions': (m) => m.startsWith('group() does not support async functions') });
  let checkErr = '';
  try {
    check(1, { 'async check': async () => true });
  } catch (e) {
    checkErr = String(e.message || e);
  }
  check(checkErr, { 'check refuses async functions': (m) => m.startsWith('the built-in check() does not support async') });
}
