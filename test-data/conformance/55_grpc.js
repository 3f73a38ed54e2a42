// exact: iterations checks grpc_streams grpc_streams_msgs_sent grpc_streams_msgs_received
// k6 exit: 0
// k6/net/grpc against the target's route guide services: .proto loaded at init, unary calls
// (blocking and asyncInvoke) with metadata, tags, headers and trailers, a status the server
// returns, discardResponseMessage, server reflection, TLS with ALPN h2, and the three kinds of
// streams (server, client, bidirectional), as k6's grpc examples use them.
import grpc from 'k6/net/grpc';
import { check, sleep } from 'k6';

export const options = {
  vus: 2,
  iterations: 4,
  insecureSkipTLSVerify: true,
  thresholds: { checks: ['rate==1'] },
};

const addr = __ENV.TARGET.replace(/^http:\/\//, '');
const tlsAddr = __ENV.TLS_TARGET.replace(/^https:\/\//, '');
const client = new grpc.Client();
const methods = client.load(['fixtures/grpc'], 'route_guide.proto');
const reflected = new grpc.Client();
const secure = new grpc.Client();
secure.load(['fixtures/grpc'], 'route_guide.proto');

const here = { latitude: 410248224, longitude: -747127767 };
const box = { lo: { latitude: 400000000, longitude: -750000000 }, hi: { latitude: 420000000, longitude: -730000000 } };

export default async function () {
  check(methods, {
    'four methods loaded': (m) => m.length === 4,
    'method info': (m) => m[1].full_method === '/main.FeatureExplorer/ListFeatures' && m[1].is_server_stream && !m[1].is_client_stream,
  });
  client.connect(addr, { plaintext: true, timeout: '5s' });
  const res = client.invoke('main.FeatureExplorer/GetFeature', here, {
    metadata: { 'x-echo': 'ping' },
    tags: { kind: 'unary' },
  });
  check(res, {
    'status OK': (r) => r.status === grpc.StatusOK,
    'feature named': (r) => r.message.name.startsWith('Berkshire Valley'),
    'location echoed': (r) => r.message.location.latitude === here.latitude,
    'header metadata': (r) => r.headers['x-echo'][0] === 'ping' && r.headers['x-served-by'][0] === 'loadgate',
    'trailer metadata': (r) => r.trailers['x-trailer'][0] === 'done',
    'no error': (r) => r.error === null,
  });
  const unnamed = client.invoke('/main.FeatureExplorer/GetFeature', { latitude: 1 });
  check(unnamed, { 'no feature there': (r) => r.status === grpc.StatusOK && r.message.name === '' });

  const refused = client.invoke('main.FeatureExplorer/GetFeature', here, {
    metadata: { 'x-status': '7', 'x-message': 'not for you' },
  });
  check(refused, {
    'server status returned': (r) => r.status === grpc.StatusPermissionDenied,
    'error object': (r) => r.error.code === 7 && r.error.message === 'not for you',
  });
  check(grpc.StatusNotFound, {
    'codes are wrapped Go values': (c) => typeof c === 'object' && c !== 5 && c + 1 === 6,
    'codes print their name': (c) => String(c) === 'NotFound' && `${grpc.StatusOK}` === 'OK',
    'codes serialise as numbers': () => JSON.stringify(grpc.StatusAborted) === '10',
  });
  const discarded = client.invoke('main.FeatureExplorer/GetFeature', here, { discardResponseMessage: true });
  check(discarded, { 'message discarded': (r) => r.status === grpc.StatusOK && r.message === null });

  const [a, b] = await Promise.all([
    client.asyncInvoke('main.FeatureExplorer/GetFeature', here),
    client.asyncInvoke('main.FeatureExplorer/GetFeature', { latitude: 2, longitude: 3 }),
  ]);
  check([a, b], { 'async invokes settle': ([x, y]) => x.status === grpc.StatusOK && y.status === grpc.StatusOK && x.message.name !== '' && y.message.name === '' });

  // Server streaming: every feature in the box.
  let features = 0;
  await new Promise((resolve) => {
    const s = new grpc.Stream(client, 'main.FeatureExplorer/ListFeatures', { tags: { kind: 'list' } });
    s.on('data', (f) => { features++; check(f, { 'streamed feature': (x) => typeof x.name === 'string' && x.location.latitude > 0 }); });
    s.on('error', () => check(null, { 'no stream error': () => false }));
    s.on('end', resolve);
    s.write(box);
  });
  check(features, { 'six features listed': (n) => n === 6 });

  // Client streaming: a route of four points, summed up at the end.
  let summary = null;
  await new Promise((resolve) => {
    const s = new grpc.Stream(client, 'main.RouteGuide/RecordRoute');
    s.on('data', (x) => { summary = x; });
    s.on('end', resolve);
    s.write({ latitude: 407838351, longitude: -746143763 });
    s.write({ latitude: 408122808, longitude: -743999179 });
    s.write({ latitude: 413628156, longitude: -749015468 });
    s.write({ latitude: 1, longitude: 1 });
    s.end();
  });
  check(summary, {
    'route summed up': (x) => x !== null && x.pointCount === 4 && x.featureCount === 3 && x.distance > 0,
  });

  // Bidirectional: each note comes back; the client ends after three.
  const notes = [];
  await new Promise((resolve) => {
    const s = new grpc.Stream(client, 'main.RouteGuide/RouteChat');
    s.on('data', (n, meta) => {
      notes.push(n.message);
      check(meta, { 'timestamp metadata': (m) => typeof m.ts === 'number' });
      if (notes.length === 3) s.end();
    });
    s.on('end', resolve);
    for (const m of ['one', 'two', 'three']) s.write({ location: here, message: m });
  });
  check(notes, { 'notes echoed in order': (n) => n.join(',') === 'one,two,three' });
  client.close();

  reflected.connect(addr, { plaintext: true, reflect: true });
  const viaReflection = reflected.invoke('main.FeatureExplorer/GetFeature', here);
  check(viaReflection, { 'reflection resolves the method': (r) => r.status === grpc.StatusOK && r.message.name !== '' });
  reflected.close();

  secure.connect(tlsAddr, {});
  const overTls = secure.invoke('main.FeatureExplorer/GetFeature', here);
  check(overTls, { 'over TLS': (r) => r.status === grpc.StatusOK && r.message.name !== '' });
  secure.close();
  // Longer than k6's one-second vus sampling, so both summaries have vus and vus_max.
  sleep(0.6);
}
