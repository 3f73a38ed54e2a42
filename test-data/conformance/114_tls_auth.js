// exact: checks http_reqs
// k6 exit: 0
// `tlsAuth`: the client presents a certificate to a server that requires one (MTLS_TARGET asks
// for a certificate issued by fixtures/mtls/ca.pem). Like k6 (Go's TLS client), it presents the
// first certificate the server's list of acceptable CAs allows: the stranger's (another CA) is
// skipped, and `domains` choose nothing (k6 only warns that they are deprecated).
import http from 'k6/http';
import { check } from 'k6';

const MTLS = __ENV.MTLS_TARGET;

export const options = {
  iterations: 1,
  insecureSkipTLSVerify: true,
  tlsAuth: [
    { cert: open('./fixtures/mtls/stranger.pem'), key: open('./fixtures/mtls/stranger-key.pem') },
    {
      domains: ['not-this-host.test'],
      cert: open('./fixtures/mtls/client.pem'),
      key: open('./fixtures/mtls/client-key.pem'),
    },
  ],
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const r = http.get(`${MTLS}/status/200`);
  check(r, {
    'the server accepted the client certificate': (res) => res.status === 200,
    'over HTTP/2 as without tlsAuth': (res) => res.proto === 'HTTP/2.0',
  });
  const again = http.get(`${MTLS}/status/201`);
  check(again, { 'the connection is reused': (res) => res.status === 201 && res.timings.tls_handshaking === 0 });
}
