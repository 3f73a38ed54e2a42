// exact: iterations http_reqs http_reqs{name:${}/echo?id=${}} checks
// k6 exit: 99
// A threshold key's tags run from the first `{` to the last `}`, so the name `http.url` gives
// (`${}/echo?id=${}`) is a valid filter: its sub-metric counts the tagged requests, one threshold
// passes and one fails (exit 99, as k6).
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  iterations: 3,
  thresholds: {
    'http_reqs{name:${}/echo?id=${}}': ['count==6'],
    'checks{ check : {braced} }': ['rate<1'],
  },
};

export default function () {
  for (const id of [1, 2]) {
    const r = http.get(http.url`${__ENV.TARGET}/echo?id=${id}`);
    check(r, { '{braced}': (res) => res.status === 200 });
  }
  http.get(`${__ENV.TARGET}/`);
}
