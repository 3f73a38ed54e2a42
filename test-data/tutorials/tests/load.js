// The tutorials' test: loadgate passes the deployment URL of the Keptn event as __ENV.TARGET_URL
// (and PROJECT, STAGE, SERVICE, KEPTN_CONTEXT beside it).
import http from 'k6/http';
import { check, sleep } from 'k6';

const target = __ENV.TARGET_URL || __ENV.TARGET || 'http://127.0.0.1:8099';

export default function () {
  const res = http.get(`${target}/json`, { tags: { name: 'json' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(0.2);
}
