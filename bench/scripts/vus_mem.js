// Memory per VU: N VUs (env VUS) each doing a GET and sleep(1). Figure: peak RSS (VmHWM).
// With TAG set, each VU's first request goes to /mark?tag=TAG (logged by nginx with a ms timestamp):
// the earliest mark is the first request of the test, the latest the moment the last VU started.
// NO_REUSE=1 sets noConnectionReuse: every request on a new connection, closed after the response,
// so a run does not hold one socket per VU (20,000 VUs exceed this machine's open-file limit).
import http from 'k6/http';
import { sleep } from 'k6';

const T = __ENV.TARGET || 'http://127.0.0.1:18080';
const TAG = __ENV.TAG || '';

export const options = {
  noConnectionReuse: __ENV.NO_REUSE === '1',
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
  http.get(TAG && __ITER === 0 ? `${T}/mark?tag=${TAG}` : `${T}/`);
  sleep(1);
}
