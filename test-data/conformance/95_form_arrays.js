// exact: iterations checks http_reqs
// k6 exit: 0
// An object body is a urlencoded form as k6 builds it: keys sorted, one `key=value` pair per
// array element (`{topping: ['a', 'b']}` is `topping=a&topping=b`, k6's examples/html_form_post.js),
// an empty array sends nothing; a form with an http.file() is multipart.
import http from 'k6/http';
import { check } from 'k6';

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

const T = __ENV.TARGET;

export default function () {
  const form = http.post(`${T}/echo`, {
    topping: ['bacon', 'cheese & ham'],
    custname: 'A B',
    qty: 3,
    ok: true,
    none: [],
  });
  const sent = JSON.parse(form.body);
  check(sent, {
    'array fields repeat the key': (s) => s.body === 'custname=A+B&ok=true&qty=3&topping=bacon&topping=cheese+%26+ham',
    'urlencoded content type': (s) => s.headers['content-type'] === 'application/x-www-form-urlencoded',
  });
  const one = JSON.parse(http.post(`${T}/echo`, { a: ['only'] }).body);
  check(one, { 'one-element array': (s) => s.body === 'a=only' });
  const multi = JSON.parse(http.post(`${T}/echo`, { f: http.file('xyz', 'x.txt', 'text/plain'), k: 'v' }).body);
  check(multi, {
    'file makes multipart': (s) => s.headers['content-type'].startsWith('multipart/form-data; boundary='),
    'multipart has the field': (s) => s.body.includes('name="k"\r\n\r\nv\r\n'),
    'multipart has the file': (s) => s.body.includes('filename="x.txt"') && s.body.includes('xyz'),
  });
}
