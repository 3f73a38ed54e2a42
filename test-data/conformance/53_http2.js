// exact: iterations checks http_reqs http_reqs{proto:HTTP/2.0} http_reqs{proto:HTTP/1.1}
// k6 exit: 0
// HTTP/2 over TLS by ALPN, as k6's default transport (ForceAttemptHTTP2): res.proto, the
// proto tag, request bodies and headers, one connection per VU for every request (batch
// included), canonical response header names; plain http:// stays HTTP/1.1 (no h2c).
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  vus: 2,
  iterations: 4,
  insecureSkipTLSVerify: true,
  thresholds: {
    checks: ['rate==1'],
    'http_reqs{proto:HTTP/2.0}': ['count==24'],
    'http_reqs{proto:HTTP/1.1}': ['count==4'],
  },
};

export default function () {
  const base = __ENV.TLS_TARGET;
  const r = http.get(`${base}/`);
  check(r, {
    'h2 proto': (x) => x.proto === 'HTTP/2.0',
    'h2 status': (x) => x.status === 200 && x.status_text === '200 OK',
    'h2 body': (x) => x.body === 'ok\n',
    'h2 tls': (x) => x.tls_version === 'tls1.3',
    'h2 canonical header names': (x) => typeof x.headers['Content-Type'] === 'string',
    'h2 timings': (x) => x.timings.duration >= 0 && x.timings.waiting >= 0,
  });

  const p = http.post(`${base}/echo`, 'abc', { headers: { 'X-Custom': 'v' } });
  const echo = p.json();
  check(p, {
    'h2 post body': () => echo.body === 'abc' && echo.method === 'POST',
    'h2 request header': () => echo.headers['x-custom'] === 'v',
  });

  const first = http.get(`${base}/conn`).json('peer');
  const batch = http.batch([
    ['GET', `${base}/conn`],
    ['GET', `${base}/delay/20`],
  ]);
  check(batch, {
    'batch over h2': (b) => b.every((x) => x.proto === 'HTTP/2.0' && x.status === 200),
  });
  check(http.get(`${base}/conn`), {
    'one connection per VU': (x) => x.json('peer') === first,
  });

  check(http.get(`${__ENV.TARGET}/`), {
    'plain http is HTTP/1.1': (x) => x.proto === 'HTTP/1.1',
  });
}
