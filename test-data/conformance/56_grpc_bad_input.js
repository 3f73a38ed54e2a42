// exact: iterations checks grpc_streams grpc_streams_msgs_sent grpc_streams_msgs_received
// k6 exit: 0
// k6/net/grpc's bad inputs: a method the descriptors do not have, a message that does not match
// its type, unknown params, a call before connect, an unreachable server, a service the
// server does not have, a deadline the server misses, a stream the server aborts. Thrown or
// returned as k6 does; nothing hangs.
import grpc from 'k6/net/grpc';
import { check, sleep } from 'k6';

export const options = { vus: 1, iterations: 2, thresholds: { checks: ['rate==1'] } };

const addr = __ENV.TARGET.replace(/^http:\/\//, '');
const client = new grpc.Client();
client.load(['fixtures/grpc'], 'route_guide.proto');
const other = new grpc.Client();
other.load(['fixtures/grpc'], 'other_service.proto');

function thrown(fn) {
  try {
    fn();
    return '';
  } catch (e) {
    return String(e.message || e);
  }
}

export default async function () {
  check(thrown(() => client.invoke('main.FeatureExplorer/GetFeature', {})), {
    'invoke before connect': (m) => m === 'no gRPC connection, you must call connect first',
  });
  check(thrown(() => client.connect('127.0.0.1:1', { plaintext: true, timeout: '2s' })), {
    'unreachable server': (m) => m === 'connection error: desc = "transport: error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"',
  });
  check(thrown(() => client.connect(addr, { plaintext: true, bogus: true })), {
    'unknown connect param': (m) => m === 'invalid grpc.connect() parameters: unknown connect param: "bogus"',
  });
  client.connect(addr, { plaintext: true });
  check(thrown(() => client.invoke('main.FeatureExplorer/Nope', {})), {
    'unknown method': (m) => m === 'method "/main.FeatureExplorer/Nope" not found in file descriptors',
  });
  check(thrown(() => client.invoke('main.FeatureExplorer/GetFeature', { latitude: 'north' })), {
    'type mismatch': (m) => m.startsWith('unable to serialise request object to protocol buffer: '),
  });
  check(thrown(() => client.invoke('main.FeatureExplorer/GetFeature', { altitude: 1 })), {
    'unknown field': (m) => m.startsWith('unable to serialise request object to protocol buffer: '),
  });
  check(thrown(() => client.invoke('main.FeatureExplorer/GetFeature', {}, { retries: 3 })), {
    'unknown invoke param': (m) => m === 'invalid GRPC\'s client.invoke() parameters: unknown param: "retries"',
  });
  check(thrown(() => new grpc.Stream(client, 'main.RouteGuide/Nope')), {
    'unknown stream method': (m) => m === 'invalid GRPC Stream\'s method: method "/main.RouteGuide/Nope" not found in file descriptors',
  });

  other.connect(addr, { plaintext: true });
  const missing = other.invoke('other.Missing/Call', {});
  check(missing, {
    'service the server lacks': (r) => r.status === grpc.StatusUnimplemented && r.error.code === 12,
  });
  other.close();

  const late = client.invoke('main.FeatureExplorer/GetFeature', {}, {
    metadata: { 'x-status': '4', 'x-message': 'too slow' },
  });
  check(late, { 'deadline status returned': (r) => r.status === grpc.StatusDeadlineExceeded && r.error.message === 'too slow' });

  let received = 0;
  let failure = null;
  await new Promise((resolve) => {
    const s = new grpc.Stream(client, 'main.FeatureExplorer/ListFeatures', { metadata: { 'x-abort-after': '2' } });
    s.on('data', () => { received++; });
    s.on('error', (e) => { failure = e; });
    s.on('end', resolve);
    s.write({ lo: { latitude: 400000000, longitude: -750000000 }, hi: { latitude: 420000000, longitude: -730000000 } });
  });
  check(failure, {
    'aborted stream: two messages first': () => received === 2,
    'aborted stream: error then end': (e) => e !== null && e.code === grpc.StatusAborted && e.message === 'aborted by the server',
  });
  client.close();
  sleep(0.6);
}
