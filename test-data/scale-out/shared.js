// 30 iterations shared by 3 VUs, one request and one check each.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    shared: { executor: 'shared-iterations', vus: 3, iterations: 30, maxDuration: '60s' },
  },
};

export function setup() {
  return { token: 'from-setup' };
}

export default function (data) {
  const res = http.get(`${__ENV.TARGET_URL}/echo?t=${data.token}`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
