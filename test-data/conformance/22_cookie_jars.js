// exact: checks http_reqs
// k6 exit: 0
// Cookie jars: the VU's jar (http.cookieJar()) and a jar of one's own (new http.CookieJar())
// passed with params.jar; a jar set by hand is sent, and the two jars stay apart.
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;

export const options = { vus: 1, iterations: 2, thresholds: { checks: ['rate==1'] } };

export default function () {
  const own = new http.CookieJar();
  own.set(`${T}/cookies`, 'flavour', 'oat');
  const withOwn = http.get(`${T}/cookies`, { jar: own });
  check(withOwn, { 'own jar sent': (r) => r.json().flavour === 'oat' });

  const withVu = http.get(`${T}/cookies`);
  check(withVu, { 'VU jar does not have it': (r) => r.json().flavour === undefined });

  const vuJar = http.cookieJar();
  vuJar.set(`${T}/cookies`, 'size', 'large');
  check(vuJar.cookiesForURL(`${T}/cookies`), { 'cookiesForURL lists it': (c) => c.size[0] === 'large' });
  const again = http.get(`${T}/cookies`);
  check(again, { 'VU jar sent': (r) => r.json().size === 'large' });

  own.delete(`${T}/cookies`, 'flavour');
  check(own.cookiesForURL(`${T}/cookies`), { 'deleted': (c) => c.flavour === undefined });
}
