// exact: iterations checks
// k6 exit: 0
// `localIPs` is not a script option in k6 (only K6_LOCAL_IPS / --local-ips): k6 warns about an
// unknown field and runs; so does loadgate.
import { check } from 'k6';
export const options = { iterations: 2, localIPs: '127.0.0.5', thresholds: { checks: ['rate==1'] } };
export default function () {
  check(1, { ran: (x) => x === 1 });
}
