// exact: checks http_reqs http_req_failed
// k6 exit: 0
// `tlsAuth` with only a certificate the server does not accept (issued by another CA): k6 (Go)
// presents none, the server refuses the handshake, and the request fails with a TLS error (not a
// certificate the server did not ask for). A server that asks for nothing is not affected.
import http from 'k6/http';
import { check } from 'k6';

const MTLS = __ENV.MTLS_TARGET;
const TLS = __ENV.TLS_TARGET;

export const options = {
  iterations: 1,
  insecureSkipTLSVerify: true,
  tlsAuth: [{ cert: open('./fixtures/mtls/stranger.pem'), key: open('./fixtures/mtls/stranger-key.pem') }],
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const r = http.get(`${MTLS}/status/200`);
  check(r, {
    'refused': (res) => res.status === 0 && res.error !== '',
  });
  console.log(`error=${r.error} code=${r.error_code}`);
  const plain = http.get(`${TLS}/status/200`);
  check(plain, { 'a server that asks for no certificate answers': (res) => res.status === 200 });
}
