// 3 VUs, five requests a second each, for 60s unless the workload sets another duration.
import http from 'k6/http';
import { sleep } from 'k6';

export const options = { vus: 3, duration: '60s' };

export default function () {
  http.get(`${__ENV.TARGET_URL}/`);
  sleep(0.2);
}
