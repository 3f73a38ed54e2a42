// exact: iterations checks ws_sessions ws_msgs_sent ws_msgs_received
// k6 exit: 0
// k6/ws (legacy, blocking): echo of text and binary messages, a ping answered by a pong, the
// socket's own setTimeout/setInterval, a server-initiated close, a refused connection and a
// non-101 handshake (both returned, not thrown), all against the target's WebSocket endpoints.
import ws from 'k6/ws';
import { check } from 'k6';

export const options = { vus: 2, iterations: 6, thresholds: { checks: ['rate==1'] } };

const base = __ENV.TARGET.replace(/^http/, 'ws');

export default function () {
  let texts = 0;
  let binaries = 0;
  let pongs = 0;
  let ticks = 0;
  let closedWith = null;
  const res = ws.connect(`${base}/ws/echo`, { tags: { kind: 'echo' } }, (socket) => {
    socket.on('open', () => {
      socket.send('hello');
      socket.sendBinary(new Uint8Array([1, 2, 3]).buffer);
      socket.ping();
      socket.setInterval(() => { ticks++; }, 20);
      socket.setTimeout(() => socket.close(), 150);
    });
    socket.on('message', (m) => { texts++; check(m, { 'text echoed': (x) => x === 'hello' }); });
    socket.on('binaryMessage', (m) => { binaries++; check(m, { 'binary echoed': (x) => x.byteLength === 3 }); });
    socket.on('pong', () => { pongs++; });
    socket.on('close', (code) => { closedWith = code; });
  });
  check(res, {
    'handshake 101': (r) => r.status === 101,
    'url in response': (r) => r.url === `${base}/ws/echo`,
    'one of each': () => texts === 1 && binaries === 1 && pongs === 1,
    'interval ticked': () => ticks >= 3,
    'closed with 1001': () => closedWith === 1001,
  });

  let received = 0;
  let serverCode = null;
  ws.connect(`${base}/ws/send/5`, null, (socket) => {
    socket.on('message', () => { received++; });
    socket.on('close', (code) => { serverCode = code; });
  });
  check(received, { 'server sent five then closed': (n) => n === 5 && serverCode === 1000 });

  const refused = ws.connect('ws://127.0.0.1:1/x', () => {});
  check(refused, {
    'refused: status 0': (r) => r.status === 0,
    'refused: error text': (r) => r.error.includes('connect: connection refused'),
  });
  const notFound = ws.connect(`${base}/nope`, () => {});
  check(notFound, { 'non-101 answer returned': (r) => r.status === 404 && r.error === '' });
}
