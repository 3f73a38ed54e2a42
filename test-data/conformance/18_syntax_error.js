// k6 exit: 107
// A script that does not parse fails before any VU starts.
import http from 'k6/http';

export const options = { iterations: 1 };

export default function () {
  http.get(__ENV.TARGET + '/'
}
