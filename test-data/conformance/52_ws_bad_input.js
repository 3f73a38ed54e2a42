// exact: iterations checks ws_msgs_sent ws_msgs_received
// k6 exit: 0
// WebSockets that go wrong: a server that drops the connection without a close frame (both
// modules report gorilla's 1006 error, then the close), and a handler that throws (k6/ws: the
// exception ends the iteration, which k6 still counts; the socket is closed).
// ws_sessions is not exact here: k6 itself opens the abandoned socket of a failed iteration or not.
import ws from 'k6/ws';
import { WebSocket } from 'k6/experimental/websockets';
import { check } from 'k6';
import exec from 'k6/execution';

export const options = { vus: 1, iterations: 4, thresholds: { checks: ['rate==1'] } };

const base = __ENV.TARGET.replace(/^http/, 'ws');
const abnormal = 'websocket: close 1006 (abnormal closure): unexpected EOF';

export default function () {
  const legacy = [];
  ws.connect(`${base}/ws/abort`, (s) => {
    s.on('error', (e) => legacy.push(`error:${e.error()}`));
    s.on('close', (code) => legacy.push(`close:${code}`));
  });
  check(legacy, { 'k6/ws: error then close 1006': (l) => l.join('|') === `error:${abnormal}|close:1006` });

  const seen = [];
  const w = new WebSocket(`${base}/ws/abort`);
  w.onerror = (e) => seen.push(`error:${e.error}`);
  w.onclose = () => {
    seen.push('close');
    check(seen, { 'websockets: error then close': (l) => l.join('|') === `error:${abnormal}|close` });
  };

  if (exec.scenario.iterationInTest % 2 === 1) {
    ws.connect(`${base}/ws/echo`, (s) => {
      s.on('open', () => s.send('boom'));
      s.on('message', () => {
        throw new Error('handler failed');
      });
    });
  }
}
