// WebSocket echo throughput (issue 11): 50 VUs for 10 s, each iteration opens a k6/ws socket to the
// target's /ws/echo, sends 10 messages one after another (the next on each echo) and closes.
// Run against `loadgate target` (axum + tungstenite), e.g.
//   loadgate target --addr 127.0.0.1:28731 &
//   k6 run -q -e TARGET=http://127.0.0.1:28731 bench/scripts/ws_echo.js
// Figures: ws_msgs_received/s and ws_sessions/s from the summary, CPU of the engine process.
import ws from 'k6/ws';

export const options = { vus: 50, duration: '10s' };

const url = `${(__ENV.TARGET || 'http://127.0.0.1:28731').replace(/^http/, 'ws')}/ws/echo`;

export default function () {
  ws.connect(url, (socket) => {
    let n = 0;
    socket.on('open', () => socket.send('m0'));
    socket.on('message', () => {
      n++;
      if (n === 10) socket.close();
      else socket.send(`m${n}`);
    });
  });
}
