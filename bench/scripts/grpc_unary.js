// gRPC unary throughput (issue 11): 50 VUs for 10 s, each iteration one blocking
// `client.invoke` of main.FeatureExplorer/GetFeature on the target's route guide service (h2c,
// one connection per VU, opened with server reflection on the VU's first iteration). Run against `loadgate target`, e.g.
//   loadgate target --addr 127.0.0.1:28731 &
//   k6 run -q -e TARGET=http://127.0.0.1:28731 bench/scripts/grpc_unary.js
// Figures: grpc_req_duration count/s (calls per second) from the summary, CPU of the engine.
import grpc from 'k6/net/grpc';

export const options = { vus: 50, duration: '10s' };

const addr = (__ENV.TARGET || 'http://127.0.0.1:28731').replace(/^http:\/\//, '');
const client = new grpc.Client();
const point = { latitude: 410248224, longitude: -747127767 };

export default function () {
  if (__ITER === 0) client.connect(addr, { plaintext: true, reflect: true });
  client.invoke('main.FeatureExplorer/GetFeature', point);
}
