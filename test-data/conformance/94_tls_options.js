// exact: checks http_reqs
// k6 exit: 0
// `tlsVersion` (string and {min, max} forms) and `tlsCipherSuites` with k6's names are accepted
// and leave plain-HTTP requests alone (their effect on https is tested against a TLS server in
// src/http/tls_tests.rs).
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  iterations: 1,
  tlsVersion: { min: 'tls1.2', max: 'tls1.3' },
  tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'TLS_AES_128_GCM_SHA256'],
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  check(http.get(`${__ENV.TARGET}/`), { 'plain http unaffected': (r) => r.status === 200 && r.tls_version === '' });
}
