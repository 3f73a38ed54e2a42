// k6 exit: 104
// An invalid threshold (count on a Trend) is a configuration error: exit code 104, nothing runs.
import http from 'k6/http';
import { url } from './lib/helpers.js';

export const options = {
  iterations: 1,
  thresholds: { http_req_duration: ['count>1'] },
};

export default function () {
  http.get(url('/'));
}
