// exact: checks http_reqs http_reqs{error_code:1110} http_req_failed
// k6 exit: 0
// `blacklistIPs`: a request whose address (a literal, or a name after `hosts`) is in a range fails
// with error_code 1110 and "ip is blacklisted" without being sent, also on a redirect hop; other
// addresses go through.
import http from 'k6/http';
import { check } from 'k6';

const T = __ENV.TARGET;
const port = T.split(':')[2];

export const options = {
  iterations: 1,
  blacklistIPs: ['127.0.0.2/32', '10.0.0.0/8'],
  hosts: { 'banned.test': '127.0.0.2', 'fine.test': '127.0.0.1' },
  thresholds: { checks: ['rate==1'], 'http_reqs{error_code:1110}': ['count==4'] },
};

export default function () {
  const lit = http.get(`http://127.0.0.2:${port}/`);
  check(lit, {
    'literal in range refused': (r) => r.status === 0 && r.error_code === 1110 && r.error === 'ip is blacklisted',
  });
  const named = http.get(`http://banned.test:${port}/`);
  check(named, { 'name resolved into range refused': (r) => r.error_code === 1110 });
  const ten = http.get('http://10.1.2.3:9/');
  check(ten, { 'wider range refused': (r) => r.error_code === 1110 });
  const fine = http.get(`http://fine.test:${port}/`);
  check(fine, { 'outside the ranges sent': (r) => r.status === 200 });
  check(http.get(`${T}/`), { 'target itself sent': (r) => r.status === 200 });
  const hop = http.get(`${T}/redirect-to?url=${encodeURIComponent(`http://banned.test:${port}/`)}`);
  check(hop, { 'redirect into a range fails on that hop': (r) => r.status === 0 && r.error_code === 1110 });
}
