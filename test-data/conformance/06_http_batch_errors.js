// exact: iterations http_reqs checks http_req_failed
// k6 exit: 0
// http.batch (array and object forms), setResponseCallback + expectedStatuses (global and per request),
// a request that times out (error_code 1050) and a closed port (status 0, error_code 1212).
import http from 'k6/http';
import { check } from 'k6';
import { url } from './lib/helpers.js';

http.setResponseCallback(http.expectedStatuses(200, { min: 400, max: 404 }));

export const options = {
  iterations: 1,
  thresholds: {
    checks: ['rate==1'],
    'http_req_failed{status:404}': ['rate==0'],
    'http_req_failed{status:201}': ['rate==1'],
    'http_reqs{expected_response:false}': ['count==5'],
  },
};

export default function () {
  const list = http.batch([
    ['GET', url('/json')],
    ['POST', url('/echo'), 'b', { headers: { 'X-B': '1' } }],
    url('/status/204'),
    { method: 'GET', url: url('/status/404') },
  ]);
  check(list, {
    'batch array length': (rs) => rs.length === 4,
    'batch array order': (rs) => rs[0].status === 200 && rs[1].json('headers.x-b') === '1' && rs[2].status === 204 && rs[3].status === 404,
  });
  const map = http.batch({ a: ['GET', url('/json')], b: { method: 'GET', url: url('/status/201') } });
  check(map, { 'batch object': (rs) => rs.a.status === 200 && rs.b.status === 201 });

  const own = http.get(url('/status/500'), { responseCallback: http.expectedStatuses(500) });
  check(own, { 'per-request callback': (r) => r.status === 500 });
  http.get(url('/status/500'));

  const slow = http.get(url('/delay/3000'), { timeout: '300ms' });
  check(slow, { 'timeout': (r) => r.status === 0 && r.error_code === 1050 && r.error !== '' });
  const refused = http.get('http://127.0.0.1:1/');
  check(refused, { 'connection refused': (r) => r.status === 0 && r.error_code === 1212 && r.error !== '' });
}
