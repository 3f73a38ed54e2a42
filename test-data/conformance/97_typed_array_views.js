// exact: iterations checks http_reqs
// k6 exit: 0
// A typed-array view (`new Uint8Array(buf, 1, 2)`) passed to k6/encoding, k6/crypto and k6/http
// stands for the view's bytes only, not the whole buffer behind it.
import encoding from 'k6/encoding';
import crypto from 'k6/crypto';
import http from 'k6/http';
import { check } from 'k6';

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

export default function () {
  const buf = new Uint8Array([1, 2, 3, 4, 5]).buffer;
  const view = new Uint8Array(buf, 1, 2);
  const copy = new Uint8Array([2, 3]).buffer;
  check(view, {
    'b64encode of a view': (v) => encoding.b64encode(v) === 'AgM=' && encoding.b64encode(v, 'rawurl') === 'AgM',
    'hash of a view': (v) => crypto.sha1(v, 'hex') === '2215d90c8d9b57557cdd6c736ba44d5fd5b41869' && crypto.sha1(v, 'hex') === crypto.sha1(copy, 'hex'),
    'hmac of a view': (v) => crypto.hmac('sha256', v, v, 'hex') === crypto.hmac('sha256', copy, copy, 'hex'),
    'hexEncode of a view': (v) => crypto.hexEncode(v) === '0203',
    'whole buffer differs': () => encoding.b64encode(buf) === 'AQIDBAU=',
  });
  const sent = JSON.parse(http.post(`${__ENV.TARGET}/echo`, view).body);
  check(sent, {
    'http body of a view': (s) => s.body === '\u0002\u0003' && s.headers['content-length'] === '2',
  });
}
