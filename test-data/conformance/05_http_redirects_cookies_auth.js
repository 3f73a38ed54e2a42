// exact: iterations http_reqs checks http_req_failed
// k6 exit: 0
// Redirects (followed, redirects:0, a limit), the per-VU cookie jar (reset every iteration), per-request
// cookies, basic auth from URL userinfo, and a gzip-encoded response.
import http from 'k6/http';
import { check } from 'k6';
import { url, TARGET } from './lib/helpers.js';

export const options = { vus: 1, iterations: 2, thresholds: { checks: ['rate==1'] } };

export default function () {
  const followed = http.get(url('/redirect/3'));
  check(followed, { 'redirects followed': (r) => r.status === 200 && r.url === url('/redirect/0') });
  const noFollow = http.get(url('/redirect/1'), { redirects: 0 });
  check(noFollow, { 'redirects:0 gives the 302': (r) => r.status === 302 && r.headers['Location'] === '/redirect/0' });
  const limited = http.get(url('/redirect/3'), { redirects: 1 });
  check(limited, { 'redirect limit stops at the 3xx': (r) => r.status === 302 && r.url === url('/redirect/2') });

  check(http.get(url('/cookies')), { 'jar is empty at iteration start': (r) => r.json('flavour') === undefined });
  const set = http.get(url('/cookies/set?flavour=oat'));
  check(set, { 'response cookies': (r) => r.cookies.flavour[0].value === 'oat' });
  check(http.get(url('/cookies')), { 'jar sends cookie': (r) => r.json('flavour') === 'oat' });
  const per = http.get(url('/cookies'), { cookies: { extra: 'yes' } });
  check(per, { 'per-request cookie added': (r) => r.json('extra') === 'yes' && r.json('flavour') === 'oat' });
  const jar = http.cookieJar();
  jar.set(TARGET, 'manual', 'v1');
  check(http.get(url('/cookies')), { 'jar.set cookie sent': (r) => r.json('manual') === 'v1' });

  const auth = TARGET.replace('http://', 'http://user:pass@');
  check(http.get(`${auth}/basic-auth/user/pass`), { 'basic auth from userinfo': (r) => r.status === 200 && r.json('authenticated') === true });
  check(http.get(`${TARGET.replace('http://', 'http://user:bad@')}/basic-auth/user/pass`), { 'wrong password is 401': (r) => r.status === 401 });

  check(http.get(url('/gzip')), { 'gzip decoded': (r) => r.json('gzipped') === true });
}
