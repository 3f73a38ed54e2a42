// exact: iterations http_reqs checks http_req_failed
// k6 exit: 0
// k6/http methods, params headers and tags (name), form and JSON bodies, responseType, and the
// Response fields status/body/headers/json(selector)/url/timings/error.
import http from 'k6/http';
import { check } from 'k6';
import { url } from './lib/helpers.js';

export const options = {
  iterations: 2,
  thresholds: {
    checks: ['rate==1'],
    'http_reqs{name:named-get}': ['count==2'],
    'http_reqs{method:PATCH}': ['count==2'],
    'http_reqs{method:OPTIONS}': ['count==2'],
    'http_req_failed{status:404}': ['rate==1'],
  },
};

export default function () {
  const get = http.get(url('/json'), { headers: { 'X-Custom': 'abc' }, tags: { name: 'named-get' } });
  check(get, {
    'get status': (r) => r.status === 200,
    'get body is text': (r) => typeof r.body === 'string' && r.body.includes('conformance'),
    'get header': (r) => r.headers['Content-Type'] === 'application/json',
    'json()': (r) => r.json().items.length === 3,
    'json(selector)': (r) => r.json('nested.key') === 'value' && r.json('items.#') === 3 && r.json('items.1') === 2,
    'json(missing selector)': (r) => r.json('nope.nope') === undefined,
    'url': (r) => r.url === url('/json'),
    'timings': (r) => ['duration', 'blocked', 'connecting', 'sending', 'waiting', 'receiving']
      .every((k) => typeof r.timings[k] === 'number' && r.timings[k] >= 0),
    'no error': (r) => r.error === '' && r.error_code === 0,
  });

  const hdr = http.get(url('/echo'), { headers: { 'X-Custom': 'abc' } });
  check(hdr, { 'params headers sent': (r) => r.json('headers.x-custom') === 'abc' });

  const post = http.post(url('/echo'), JSON.stringify({ a: 1 }), { headers: { 'Content-Type': 'application/json' } });
  check(post, {
    'post json body': (r) => r.json('method') === 'POST' && JSON.parse(r.json('body')).a === 1,
    'post content type': (r) => r.json('headers.content-type') === 'application/json',
  });

  const form = http.post(url('/echo'), { b: 'two words', a: '1' });
  check(form, {
    'form body': (r) => r.json('body') === 'a=1&b=two+words',
    'form content type': (r) => r.json('headers.content-type') === 'application/x-www-form-urlencoded',
  });

  check(http.put(url('/echo'), 'put-body'), { 'put': (r) => r.json('method') === 'PUT' && r.json('body') === 'put-body' });
  check(http.patch(url('/echo'), 'patch-body'), { 'patch': (r) => r.json('method') === 'PATCH' && r.json('body') === 'patch-body' });
  check(http.del(url('/echo')), { 'del': (r) => r.json('method') === 'DELETE' });
  check(http.head(url('/json')), { 'head': (r) => r.status === 200 && !r.body });
  check(http.options(url('/echo')), { 'options': (r) => r.json('method') === 'OPTIONS' });
  const req = http.request('POST', url('/echo?q=1'), 'r', { headers: { 'X-Req': 'yes' } });
  check(req, { 'request()': (r) => r.json('method') === 'POST' && r.json('query.q') === '1' && r.json('headers.x-req') === 'yes' });

  const text = http.get(url('/bytes/4'), { responseType: 'text' });
  check(text, { 'responseType text': (r) => r.body === 'xxxx' });
  const bin = http.get(url('/bytes/16'), { responseType: 'binary' });
  check(bin, { 'responseType binary': (r) => r.body instanceof ArrayBuffer && r.body.byteLength === 16 });
  const none = http.get(url('/bytes/16'), { responseType: 'none' });
  check(none, { 'responseType none': (r) => r.body === null && r.status === 200 });

  const missing = http.get(url('/status/404'));
  check(missing, { '404 is an HTTP error code': (r) => r.status === 404 && r.error_code === 1404 });
}
