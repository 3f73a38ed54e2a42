// exact: checks http_reqs http_reqs{name:mapped}
// k6 exit: 0
// `hosts`: a name mapped to the target's IP (the URL's port kept), a `name:port` entry that also
// changes the port, and a `*.domain` wildcard; the exact entry wins over the wildcard.
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;
const port = T.split(':')[2];

export const options = {
  iterations: 1,
  hosts: {
    'target.test': '127.0.0.1',
    'moved.test:81': `127.0.0.1:${port}`,
    '*.wild.test': '127.0.0.1',
    'exact.wild.test': '127.0.0.3',
  },
  thresholds: { checks: ['rate==1'], 'http_reqs{name:mapped}': ['count==3'] },
};

export default function () {
  const a = http.get(`http://target.test:${port}/echo`, { tags: { name: 'mapped' } });
  check(a, {
    'name mapped, port kept': (r) => r.status === 200 && r.remote_ip === '127.0.0.1' && r.remote_port === Number(port),
    'host header is the name': (r) => r.json('headers.host') === `target.test:${port}`,
  });
  const b = http.get('http://moved.test:81/echo', { tags: { name: 'mapped' } });
  check(b, { 'name:port entry changes the port': (r) => r.status === 200 && r.json('headers.host') === 'moved.test:81' });
  const c = http.get(`http://Any.Wild.Test:${port}/`, { tags: { name: 'mapped' } });
  check(c, { 'wildcard entry': (r) => r.status === 200 });
  const d = http.get(`http://exact.wild.test:${port}/`, { timeout: '2s' });
  check(d, { 'exact entry wins over the wildcard': (r) => r.remote_ip === '' || r.remote_ip === '127.0.0.3' });
}
