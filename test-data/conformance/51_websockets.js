// exact: iterations checks ws_sessions ws_msgs_sent ws_msgs_received
// k6 exit: 0
// k6/experimental/websockets (k6 1.1's name of k6/websockets): the browser-like WebSocket with
// onopen/addEventListener, text and binary (ArrayBuffer) sends, binaryType,
// a ping, a client close, a server-initiated close, a refused connection (error then close),
// and an iteration that lasts until every socket it opened has closed.
import { WebSocket } from 'k6/experimental/websockets';
import { check } from 'k6';

export const options = { vus: 2, iterations: 4, thresholds: { checks: ['rate==1'] } };

const base = __ENV.TARGET.replace(/^http/, 'ws');

export default function () {
  const echo = new WebSocket(`${base}/ws/echo`, 'chat');
  echo.binaryType = 'arraybuffer';
  const got = [];
  echo.onopen = () => {
    check(echo, { 'open state': (w) => w.readyState === 1, 'subprotocol': (w) => w.protocol === 'chat' });
    echo.send('one');
    echo.send(new Uint8Array([1, 2]).buffer);
    echo.ping();
  };
  echo.addEventListener('message', (e) => {
    got.push(typeof e.data === 'string' ? e.data : e.data.byteLength);
    if (got.length === 2) echo.close();
  });
  echo.addEventListener('close', () => {
    check(got, { 'echoed text and binaries': (g) => g.join(',') === 'one,2' });
    check(echo, { 'closed state': (w) => w.readyState === 3 });
  });

  const server = new WebSocket(`${base}/ws/send/3`);
  let blobs = 0;
  server.onmessage = (e) => { if (typeof e.data === 'string') blobs++; };
  server.onclose = () => check(blobs, { 'server sent three': (n) => n === 3 });

  const refused = new WebSocket('ws://127.0.0.1:1/');
  let errored = false;
  refused.onerror = (e) => { errored = e.error.includes('connection refused'); };
  refused.onclose = () => check(errored, { 'refused: error then close': (v) => v });
  check(echo, { 'connecting at first': (w) => w.readyState === 0 });
}
