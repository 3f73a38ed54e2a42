// k6/http over the native request/batch functions. Responses are plain objects from Rust with this
// module's Response prototype (json(), html() helpers).
const n = globalThis.__k6;

// An error as k6 throws it from Go code: String(e) and the log say `GoError: ...`.
function goError(message) {
  const e = new Error(message);
  e.name = 'GoError';
  return e;
}

class Response {
  json(selector) {
    // As k6: a null body (a request error, 1xx/204/304, responseType none) throws, selector or not.
    if (this.body === null || this.body === undefined) {
      throw goError("the body is null so we can't transform it to JSON - this likely was because of a request error getting the response");
    }
    if (selector === undefined) {
      if (this.__json === undefined) {
        const text = typeof this.body === 'string' ? this.body : n.utf8(this.body);
        Object.defineProperty(this, '__json', { value: JSON.parse(text), enumerable: false, writable: true });
      }
      return this.__json;
    }
    const text = typeof this.body === 'string' ? this.body : n.utf8(this.body);
    const found = n.gjson(text, String(selector));
    return found === undefined ? undefined : JSON.parse(found);
  }
  html(selector) {
    if (this.body === null || this.body === undefined) {
      throw goError("the body is null so we can't transform it to HTML - this likely was because of a request error getting the response");
    }
    const text = typeof this.body === 'string' ? this.body : n.utf8(this.body);
    const doc = n.htmlApi().fromResponse(text, this.url);
    return selector === undefined ? doc : doc.find(String(selector));
  }
  // As k6's Response.submitForm: the form's fields (and the submit button's), overridden by
  // `fields`, sent to the form's action (resolved against the response URL) with its method.
  submitForm(args) {
    let formSelector = 'form';
    let submitSelector = '[type="submit"]';
    let fields = null;
    let params = null;
    if (args !== undefined && args !== null) {
      const a = Object(args);
      if ('formSelector' in a) formSelector = String(a.formSelector);
      if ('submitSelector' in a) submitSelector = String(a.submitSelector);
      if ('fields' in a && a.fields && typeof a.fields === 'object') fields = a.fields;
      if ('params' in a) params = a.params;
    }
    const form = this.html(formSelector);
    if (form.size() === 0) throw new Error(`no form found for selector '${formSelector}' in response '${this.url}'`);
    const method = form.attr('method') === undefined ? 'GET' : String(form.attr('method')).toUpperCase();
    const action = form.attr('action');
    let target = this.url;
    if (action !== undefined) {
      target = n.htmlResolve(this.url, action);
      if (target === undefined || target === null) throw new Error(`invalid form action '${action}'`);
    }
    const values = form.serializeObject();
    const submit = form.find(submitSelector);
    const submitName = submit.attr('name');
    const submitValue = submit.val();
    if (submitName !== undefined && submitValue !== undefined) values[submitName] = submitValue;
    if (fields) Object.assign(values, fields);
    if (method === 'GET') {
      const q = Object.keys(values).sort()
        .map((k) => encodeQuery(k) + '=' + encodeQuery(String(values[k]))).join('&');
      const hash = target.indexOf('#');
      const base = hash < 0 ? target : target.slice(0, hash);
      const withoutQuery = base.indexOf('?') < 0 ? base : base.slice(0, base.indexOf('?'));
      return request(method, withoutQuery + (q ? '?' + q : '') + (hash < 0 ? '' : target.slice(hash)), null, params);
    }
    // k6 hands the values to the form encoder as Go values: a multiple select's list is
    // written as Go prints a []string.
    for (const k of Object.keys(values)) {
      if (Array.isArray(values[k])) values[k] = '[' + values[k].join(' ') + ']';
    }
    return request(method, target, values, params);
  }
  // As k6's Response.clickLink: a GET of the first matching element's href.
  clickLink(args) {
    let selector = 'a[href]';
    let params = null;
    if (args !== undefined && args !== null) {
      const a = Object(args);
      if ('selector' in a) selector = String(a.selector);
      if ('params' in a) params = a.params;
    }
    const link = this.html(selector);
    if (link.size() === 0) throw new Error(`no element found for selector '${selector}' in response '${this.url}'`);
    const href = link.attr('href');
    if (href === undefined) throw new Error(`no valid href attribute value found on element '${selector}' in response '${this.url}'`);
    const target = n.htmlResolve(this.url, href);
    if (target === undefined || target === null) throw new Error(`invalid link href '${href}'`);
    return request('GET', target, undefined, params);
  }
}

// Go's url.QueryEscape.
function encodeQuery(s) {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function wrap(r) {
  Object.setPrototypeOf(r, Response.prototype);
  return r;
}

function target(url) {
  return url;
}

export function request(method, url, body, params) {
  return wrap(n.request(String(method).toUpperCase(), target(url), body, params));
}
// The request runs on the worker while the script goes on; the VU's event loop settles the
// Promise with the Response (several in flight run concurrently, as in k6).
export function asyncRequest(method, url, body, params) {
  return n.asyncRequest(String(method).toUpperCase(), target(url), body, params, wrap);
}
export function get(url, params) { return request('GET', url, null, params); }
export function head(url, params) { return request('HEAD', url, null, params); }
export function post(url, body, params) { return request('POST', url, body, params); }
export function put(url, body, params) { return request('PUT', url, body, params); }
export function patch(url, body, params) { return request('PATCH', url, body, params); }
export function del(url, body, params) { return request('DELETE', url, body, params); }
export function options(url, body, params) { return request('OPTIONS', url, body, params); }

function normalize(r) {
  if (typeof r === 'string' || (r && r.__lgUrl)) return ['GET', r, null, undefined];
  if (Array.isArray(r)) return [String(r[0]).toUpperCase(), r[1], r[2] === undefined ? null : r[2], r[3]];
  if (r && typeof r === 'object') {
    return [String(r.method || 'GET').toUpperCase(), r.url, r.body === undefined ? null : r.body, r.params];
  }
  throw new TypeError('invalid batch request: ' + r);
}

export function batch(requests) {
  if (Array.isArray(requests)) {
    return n.batch(requests.map(normalize)).map(wrap);
  }
  const keys = Object.keys(requests);
  const out = n.batch(keys.map((k) => normalize(requests[k])));
  const result = {};
  keys.forEach((k, i) => { result[k] = wrap(out[i]); });
  return result;
}

export function expectedStatuses(...args) {
  const ranges = [];
  for (const a of args) {
    if (typeof a === 'number') ranges.push([a, a]);
    else if (a && typeof a.min === 'number' && typeof a.max === 'number') ranges.push([a.min, a.max]);
    else throw new TypeError('expectedStatuses takes status codes or {min, max} objects');
  }
  return { __lgExpected: ranges };
}

export function setResponseCallback(cb) {
  n.setResponseCallback(cb);
}

export function url(strings, ...values) {
  let u = '';
  let name = '';
  strings.forEach((s, i) => {
    u += s;
    name += s;
    if (i < values.length) {
      u += values[i];
      name += '${}';
    }
  });
  return { __lgUrl: true, url: u, name, toString() { return u; } };
}

export function file(data, filename, contentType) {
  return { __lgFile: true, data, filename: filename || 'file', content_type: contentType || 'application/octet-stream' };
}

export class CookieJar {
  constructor() {
    Object.defineProperty(this, '__lgJar', { value: n.jarNew() });
  }
  cookiesForURL(u) { return n.jarCookiesForUrl(this.__lgJar, String(u)); }
  set(u, name, value, opts) { n.jarSet(this.__lgJar, String(u), String(name), String(value), opts); }
  clear(u) { n.jarClear(this.__lgJar, String(u)); }
  delete(u, name) { n.jarDelete(this.__lgJar, String(u), String(name)); }
}

// The VU's own jar (id 0), reset at the start of every iteration unless noCookiesReset.
const vuJar = Object.create(CookieJar.prototype, { __lgJar: { value: 0 } });

export function cookieJar() {
  return vuJar;
}

export const TLS_1_0 = 'tls1.0';
export const TLS_1_1 = 'tls1.1';
export const TLS_1_2 = 'tls1.2';
export const TLS_1_3 = 'tls1.3';

export default {
  request, asyncRequest, get, head, post, put, patch, del, options, batch, expectedStatuses, setResponseCallback,
  url, file, cookieJar, CookieJar, TLS_1_0, TLS_1_1, TLS_1_2, TLS_1_3,
};
