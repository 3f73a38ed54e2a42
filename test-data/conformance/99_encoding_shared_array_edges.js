// exact: iterations checks
// k6 exit: 0
// Edges of k6/encoding and k6/data that k6 refuses: `rawstd`/`rawurl` decoding of padded input
// throws "illegal base64 data", `std` of unpadded input too; a SharedArray lists its indexes as
// keys and throws a TypeError on push().
import encoding from 'k6/encoding';
import { SharedArray } from 'k6/data';
import { check } from 'k6';

const list = new SharedArray('list', () => [{ a: 1 }, { a: 2 }, { a: 3 }]);

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

function error(fn) {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

export default function () {
  check(null, {
    'rawstd refuses padding': () => error(() => encoding.b64decode('aGk/Pw==', 'rawstd')).includes('illegal base64 data at input byte 6'),
    'rawurl refuses padding': () => error(() => encoding.b64decode('aGk_Pw==', 'rawurl')).includes('illegal base64 data at input byte 6'),
    'std needs padding': () => error(() => encoding.b64decode('aGk/Pw', 'std')).includes('illegal base64 data'),
    'raw without padding works': () => encoding.b64decode('aGk/Pw', 'rawstd', 's') === 'hi??',
    'std ignores line breaks': () => encoding.b64decode('aGk/\r\nPw==', 'std', 's') === 'hi??',
  });
  check(list, {
    'SharedArray keys': (l) => JSON.stringify(Object.keys(l)) === '["0","1","2"]',
    'SharedArray for-in': (l) => { const k = []; for (const i in l) k.push(i); return k.join(',') === '0,1,2'; },
    'SharedArray length and index': (l) => l.length === 3 && l[1].a === 2 && l[5] === undefined,
    'SharedArray push throws TypeError': (l) => error(() => l.push({ a: 4 })) === 'TypeError: SharedArray is immutable',
    'SharedArray unchanged': (l) => l.length === 3,
    'SharedArray forEach and map': (l) => l.map((x) => x.a).join(',') === '1,2,3',
  });
}
