// k6 exit: 104
// A threshold on a metric that does not exist is a configuration error: exit code 104.
import http from 'k6/http';
import { url } from './lib/helpers.js';

export const options = {
  iterations: 1,
  thresholds: { no_such_metric: ['count>0'] },
};

export default function () {
  http.get(url('/'));
}
