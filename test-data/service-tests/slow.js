// Runs for its whole duration (20s) unless stopped: for shutdown and maximum-duration tests.
import http from 'k6/http';
import { sleep } from 'k6';

export default function () {
  http.get(`${__ENV.TARGET_URL}/`);
  sleep(0.2);
}
