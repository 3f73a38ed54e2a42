// Run with LOADGATE_MAX_RESPONSE_BODY=100000: a body over the cap fails its request; a body
// that is not kept (responseType 'none', as discardResponseBodies) is not capped; a gzip bomb
// (BOMB: 10 MB of zeros, 10 kB on the wire) fails as a decompression error.
import http from 'k6/http';
export const options = { iterations: 1 };
export default function () {
  const big = http.get(`${__ENV.TARGET}/bytes/1000000`);
  console.log(`big: status=${big.status} error_code=${big.error_code} error=${big.error}`);
  const small = http.get(`${__ENV.TARGET}/bytes/1000`);
  console.log(`small: status=${small.status} length=${small.body.length}`);
  const dropped = http.get(`${__ENV.TARGET}/bytes/1000000`, { responseType: 'none' });
  console.log(`dropped: status=${dropped.status} body=${dropped.body}`);
  const bomb = http.get(__ENV.BOMB);
  console.log(`bomb: status=${bomb.status} error_code=${bomb.error_code} error=${bomb.error}`);
}
