// A small load test against the service under test. loadgate serve passes the event's deployment
// URL as __ENV.TARGET_URL (and PROJECT, STAGE, SERVICE, KEPTN_CONTEXT).
import http from 'k6/http';
import { check, sleep } from 'k6';

const TARGET = __ENV.TARGET_URL;

export default function () {
  const res = http.get(`${TARGET}/`);
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(0.1);
}
