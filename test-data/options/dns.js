// `dns` from --dns / K6_DNS / the script: `localhost` resolves to 127.0.0.1 only here, so
// policy onlyIPv6 leaves no address (k6: "lookup localhost: no such host", code 1000) while the default
// (preferIPv4) and onlyIPv4 reach the target. EXPECT=none|ok says which. Used by
// tests/it/cli_options.rs.
import http from 'k6/http';
import { check } from 'k6';

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

export default function () {
  const port = __ENV.TARGET.split(':')[2];
  const r = http.get(`http://localhost:${port}/`);
  if (__ENV.EXPECT === 'none') {
    check(r, { 'no address under the policy': (x) => x.status === 0 && x.error_code === 1000 && x.error === 'lookup localhost: no such host' });
  } else {
    check(r, { 'resolved and sent': (x) => x.status === 200 });
  }
}
