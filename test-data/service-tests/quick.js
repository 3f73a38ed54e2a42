// Two requests to the target named by the event (__ENV.TARGET_URL), with the Keptn context.
import http from 'k6/http';
import { check } from 'k6';

export default function () {
  const res = http.get(`${__ENV.TARGET_URL}/echo?project=${__ENV.PROJECT}&stage=${__ENV.STAGE}&service=${__ENV.SERVICE}&ctx=${__ENV.KEPTN_CONTEXT}`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
