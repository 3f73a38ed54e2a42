// k6 exit: 0
// res.json(selector) with tidwall/gjson's modifiers as k6 v1.1 evaluates them (@keys, @values on
// a missing path give [], @tostr, @fromstr, @dig, @group, chained modifiers), and null bodies:
// 204/304 responses and responseType none have body null, and json() on a null body throws k6's
// GoError with or without a selector. Every check passes in k6; `checks` must match exactly.
// exact: checks
import http from 'k6/http';
import { check } from 'k6';
import { url } from './lib/helpers.js';

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function thrown(f) {
  try {
    f();
    return 'nothing thrown';
  } catch (e) {
    return String(e);
  }
}

export default function () {
  const res = http.get(url('/json'));
  const sel = (p) => res.json(p);
  check(res, {
    '@keys': () => same(sel('nested.@keys'), ['key', 'n']),
    '@values': () => same(sel('nested.@values'), ['value', 42]),
    'top @keys': () => same(sel('@keys'), ['name', 'items', 'nested']),
    'pipe @keys': () => same(sel('nested|@keys'), ['key', 'n']),
    '@keys of a string': () => same(sel('name.@keys'), [null]),
    '@keys of missing': () => same(sel('missing.@keys'), []),
    '@values of missing': () => same(sel('missing.@values'), []),
    'count after @keys of missing': () => sel('missing.@keys.#') === 0,
    '@values count': () => sel('@values.#') === 3,
    '@keys then @reverse': () => same(sel('nested.@keys.@reverse'), ['n', 'key']),
    '@reverse then index': () => sel('items.@reverse.0') === 3,
    '@tostr': () => sel('nested.@tostr') === '{"key":"value","n":42}',
    '@tostr of a string': () => sel('name|@tostr') === '"conformance"',
    '@tostr then @fromstr': () => sel('nested.@tostr.@fromstr.n') === 42,
    '@fromstr of plain text': () => sel('name.@fromstr') === undefined,
    '@dig': () => same(sel('@dig:n'), [42]),
    '@dig in an array': () => same(sel('items.@dig:1'), [2]),
    '@group of an array': () => sel('[items,items].@group') === undefined,
    '@flatten': () => same(sel('[items,items]|@flatten'), [1, 2, 3, 1, 2, 3]),
    'query': () => same(sel('items.#(>1)#'), [2, 3]),
    'multipath': () => same(sel('[name,items.0]'), ['conformance', 1]),
  });

  const noContent = http.get(url('/status/204'));
  const notModified = http.get(url('/status/304'));
  const none = http.get(url('/json'), { responseType: 'none' });
  const emptyOk = http.get(url('/status/200'));
  const nullMsg =
    "GoError: the body is null so we can't transform it to JSON - this likely was because of a request error getting the response";
  check(noContent, {
    '204 body is null': (r) => r.body === null,
    '304 body is null': () => notModified.body === null,
    'empty 200 body is a string': () => emptyOk.body === '',
    'none body is null': () => none.body === null,
    'json() of a null body throws': (r) => thrown(() => r.json()) === nullMsg,
    'json(selector) of a null body throws': (r) => thrown(() => r.json('a')) === nullMsg,
    'json(selector) of none throws': () => thrown(() => none.json('name')) === nullMsg,
    'json(selector) of text is undefined': () => http.get(url('/')).json('a') === undefined,
  });
}
