// Throughput: 50 VUs, a plain GET, no sleep. Figures: requests/s and CPU-seconds per 10k requests.
import http from 'k6/http';

const T = __ENV.TARGET || 'http://127.0.0.1:18080';

export const options = {
  scenarios: {
    rps: { executor: 'constant-vus', vus: 50, duration: __ENV.DURATION || '15s' },
  },
};

export default function () {
  http.get(`${T}/`);
}
