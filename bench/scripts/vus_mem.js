// Memory per VU: N VUs (env VUS) each doing a GET and sleep(1). Figure: peak RSS (VmHWM).
import http from 'k6/http';
import { sleep } from 'k6';

const T = __ENV.TARGET || 'http://127.0.0.1:18080';

export const options = {
  scenarios: {
    mem: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 1000),
      duration: __ENV.DURATION || '20s',
      gracefulStop: '5s',
    },
  },
};

export default function () {
  http.get(`${T}/`);
  sleep(1);
}
