// k6/html: Selection and Element as k6 has them (goquery's API), over the native document of
// modules/html (node keys, selector matching, text and serialisation). Evaluated once per VU by
// __k6.htmlApi(); the value of this script is the module's API object.
(function () {
  const n = globalThis.__k6;
  const UNDEF = undefined;

  function uniq(keys) {
    const seen = new Set();
    const out = [];
    for (const k of keys) {
      if (!seen.has(k)) { seen.add(k); out.push(k); }
    }
    return out;
  }

  // The Go type name k6's error messages show for a JS value.
  function goType(v) {
    if (v === null || v === undefined) return '<nil>';
    if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
    if (typeof v === 'boolean') return 'bool';
    if (typeof v === 'function') return 'func(sobek.FunctionCall) sobek.Value';
    if (Array.isArray(v)) return '[]interface {}';
    return 'map[string]interface {}';
  }

  function isElem(doc, k) { return doc.kind(k) === 1; }

  function elementChildren(doc, k) {
    return doc.children(k).filter((c) => isElem(doc, c));
  }

  function sel(doc, keys, url, prev) {
    const s = Object.create(Selection.prototype);
    Object.defineProperty(s, '__doc', { value: doc });
    Object.defineProperty(s, '__keys', { value: keys });
    Object.defineProperty(s, '__prev', { value: prev });
    s.url = url;
    return s;
  }

  function filtered(s, keys, selector) {
    const out = uniq(keys);
    const kept = selector === undefined || selector === null ? out : s.__doc.matching(out, String(selector));
    return sel(s.__doc, kept, s.url, s);
  }

  // The keys an argument names: a selector string (matched in the whole document), a Selection or
  // an Element; null for other values.
  function keysOf(s, arg, what) {
    if (arg instanceof Selection) return arg.__keys;
    if (arg instanceof Element) return [arg.__key];
    if (typeof arg === 'string') return null;
    throw new Error(`invalid argument, cannot use a '${goType(arg)}' as a selector`);
  }

  function walkSiblings(doc, k, step) {
    const out = [];
    for (let c = step(doc, k); c !== undefined && c !== null; c = step(doc, c)) {
      if (isElem(doc, c)) out.push(c);
    }
    return out;
  }
  const nextOf = (doc, k) => doc.next(k);
  const prevOf = (doc, k) => doc.prev(k);

  function elementAncestors(doc, k) {
    return doc.ancestors(k);
  }

  function firstElementSibling(doc, k, step) {
    for (let c = step(doc, k); c !== undefined && c !== null; c = step(doc, c)) {
      if (isElem(doc, c)) return c;
    }
    return UNDEF;
  }

  // prevUntil / nextUntil / parentsUntil: (until selector | Selection | null, filter).
  function until(s, collect, args) {
    const doc = s.__doc;
    const [stop, filter] = args;
    let stopKeys = null;
    let stopSel = null;
    if (stop instanceof Selection) stopKeys = new Set(stop.__keys);
    else if (stop instanceof Element) stopKeys = new Set([stop.__key]);
    else if (typeof stop === 'string') stopSel = stop;
    else if (stop !== undefined && stop !== null) keysOf(s, stop);
    const out = [];
    for (const k of s.__keys) {
      for (const c of collect(doc, k)) {
        if (stopKeys && stopKeys.has(c)) break;
        if (stopSel !== null && stopSel !== '' && doc.matching([c], stopSel).length) break;
        out.push(c);
      }
    }
    return filtered(s, out, filter === undefined || filter === null ? undefined : String(filter));
  }

  function matcher(s, v, fnName) {
    if (typeof v === 'function') {
      return (k, i) => !!v.call(v, i, sel(s.__doc, [k], s.url));
    }
    if (typeof v === 'string') {
      return (k) => s.__doc.matching([k], v).length > 0;
    }
    if (v instanceof Selection || v instanceof Element) {
      const set = new Set(keysOf(s, v));
      return (k) => set.has(k);
    }
    throw new Error(`the argument to ${fnName}() must be a function, a selector or a selection`);
  }

  function valueOrHtml(doc, k) {
    const v = doc.attr(k, 'value');
    return v === undefined ? doc.inner(k) : v;
  }

  function valOf(doc, keys) {
    if (!keys.length) return UNDEF;
    const k = keys[0];
    switch (doc.name(k)) {
      case 'input': {
        const v = doc.attr(k, 'value');
        if (v !== undefined) return v;
        const t = doc.attr(k, 'type');
        return t === 'radio' || t === 'checkbox' ? 'on' : '';
      }
      case 'button': {
        const v = doc.attr(k, 'value');
        return v === undefined ? '' : v;
      }
      case 'textarea': return doc.inner(k);
      case 'option': return valueOrHtml(doc, k);
      case 'select': {
        const selected = doc.select([k], 'option[selected]');
        if (doc.attr(k, 'multiple') !== undefined) return selected.map((o) => valueOrHtml(doc, o));
        return selected.length ? valueOrHtml(doc, selected[0]) : '';
      }
      default: return UNDEF;
    }
  }

  // snaker.SnakeToCamel as k6 uses it: every word capitalised, Go's common initialisms upper case.
  const INITIALISMS = new Set(['ACL', 'API', 'ASCII', 'CPU', 'CSS', 'DNS', 'EOF', 'GUID', 'HTML', 'HTTP', 'HTTPS', 'ID', 'IP',
    'JSON', 'LHS', 'QPS', 'RAM', 'RHS', 'RPC', 'SLA', 'SMTP', 'SQL', 'SSH', 'TCP', 'TLS', 'TTL', 'UDP', 'UI', 'UID', 'UUID',
    'URI', 'URL', 'UTF8', 'VM', 'XML', 'XMPP', 'XSRF', 'XSS']);
  function snakeToCamel(s) {
    return s.split('_').filter((w) => w !== '').map((w) => {
      const up = w.toUpperCase();
      return INITIALISMS.has(up) ? up : w[0].toUpperCase() + w.slice(1);
    }).join('');
  }
  function attrToProperty(s) {
    const i = s.indexOf('-');
    if (i < 0) return s;
    return s.slice(0, i) + snakeToCamel(s.slice(i + 1).replace(/-/g, '_'));
  }
  function propertyToAttr(s) {
    return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase().replace(/_/g, '-');
  }
  function dataValue(v) {
    if (v === '') return UNDEF;
    if (v[0] === '{' || v[0] === '[') {
      try { return JSON.parse(v); } catch (e) { return v; }
    }
    if (v === 'true') return true;
    if (v === 'false') return false;
    if (v === 'null' || v === 'undefined') return UNDEF;
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) {
      const f = Number(v);
      if (Number.isFinite(f) && String(f) === v) return f;
    }
    return v;
  }

  class Selection {
    constructor() { throw new TypeError('Selection objects come from parseHTML() or res.html()'); }

    add(arg) {
      const ks = keysOf(this, arg, 'add');
      const more = ks === null ? this.__doc.select([this.__doc.root()], arg) : ks;
      return sel(this.__doc, uniq(this.__keys.concat(more)), this.url, this);
    }
    find(arg) {
      const ks = keysOf(this, arg, 'find');
      if (ks === null) return sel(this.__doc, this.__doc.select(this.__keys, arg), this.url, this);
      const doc = this.__doc;
      const found = ks.filter((k) => this.__keys.some((a) => doc.contains(a, k)));
      return sel(doc, uniq(found), this.url, this);
    }
    single(selector) {
      const found = this.__doc.select(this.__keys, String(selector));
      return sel(this.__doc, found.slice(0, 1), this.url, this);
    }
    closest(arg) {
      const doc = this.__doc;
      const ks = keysOf(this, arg, 'closest');
      const set = ks === null ? null : new Set(ks);
      const out = [];
      for (const k of this.__keys) {
        for (let c = k; c !== undefined && c !== null; c = doc.parent(c)) {
          if (!isElem(doc, c)) continue;
          if (set ? set.has(c) : doc.matching([c], arg).length) { out.push(c); break; }
        }
      }
      return sel(doc, uniq(out), this.url, this);
    }
    has(arg) {
      const doc = this.__doc;
      const ks = keysOf(this, arg, 'has');
      const keep = ks === null
        ? this.__keys.filter((k) => doc.select([k], arg).length > 0)
        : this.__keys.filter((k) => ks.some((o) => doc.contains(k, o)));
      return sel(doc, keep, this.url, this);
    }
    not(arg) {
      const m = matcher(this, arg, 'not');
      return sel(this.__doc, this.__keys.filter((k, i) => !m(k, i)), this.url, this);
    }
    filter(arg) {
      const m = matcher(this, arg, 'filter');
      return sel(this.__doc, this.__keys.filter((k, i) => m(k, i)), this.url, this);
    }
    is(arg) {
      const m = matcher(this, arg, 'is');
      return this.__keys.some((k, i) => m(k, i));
    }
    next(selector) {
      const doc = this.__doc;
      const out = [];
      for (const k of this.__keys) {
        const c = firstElementSibling(doc, k, nextOf);
        if (c !== UNDEF) out.push(c);
      }
      return filtered(this, out, selector);
    }
    nextAll(selector) {
      const doc = this.__doc;
      return filtered(this, [].concat(...this.__keys.map((k) => walkSiblings(doc, k, nextOf))), selector);
    }
    prev(selector) {
      const doc = this.__doc;
      const out = [];
      for (const k of this.__keys) {
        const c = firstElementSibling(doc, k, prevOf);
        if (c !== UNDEF) out.push(c);
      }
      return filtered(this, out, selector);
    }
    prevAll(selector) {
      const doc = this.__doc;
      return filtered(this, [].concat(...this.__keys.map((k) => walkSiblings(doc, k, prevOf))), selector);
    }
    nextUntil(...args) { return until(this, (doc, k) => walkSiblings(doc, k, nextOf), args); }
    prevUntil(...args) { return until(this, (doc, k) => walkSiblings(doc, k, prevOf), args); }
    parentsUntil(...args) { return until(this, elementAncestors, args); }
    parent(selector) {
      const doc = this.__doc;
      const out = [];
      for (const k of this.__keys) {
        const p = doc.parent(k);
        if (p !== undefined && p !== null && isElem(doc, p)) out.push(p);
      }
      return filtered(this, out, selector);
    }
    parents(selector) {
      const doc = this.__doc;
      return filtered(this, [].concat(...this.__keys.map((k) => elementAncestors(doc, k))), selector);
    }
    siblings(selector) {
      const doc = this.__doc;
      const out = [];
      for (const k of this.__keys) {
        const p = doc.parent(k);
        if (p === undefined || p === null) continue;
        for (const c of elementChildren(doc, p)) if (c !== k) out.push(c);
      }
      return filtered(this, out, selector);
    }
    children(selector) {
      const doc = this.__doc;
      return filtered(this, [].concat(...this.__keys.map((k) => elementChildren(doc, k))), selector);
    }
    contents() {
      const doc = this.__doc;
      return sel(doc, uniq([].concat(...this.__keys.map((k) => doc.children(k)))), this.url, this);
    }
    size() { return this.__keys.length; }
    end() { return this.__prev || sel(this.__doc, [], this.url, UNDEF); }
    eq(i) {
      let idx = Math.trunc(Number(i));
      if (idx < 0) idx += this.__keys.length;
      const k = this.__keys[idx];
      return sel(this.__doc, k === undefined ? [] : [k], this.url, this);
    }
    first() { return this.eq(0); }
    last() { return this.eq(-1); }
    slice(start, end) {
      const len = this.__keys.length;
      const e = end === undefined || end >= len ? len : end;
      if (start < 0 || start > e || e < 0) throw new Error('runtime error: slice bounds out of range');
      return sel(this.__doc, this.__keys.slice(start, e), this.url, this);
    }
    text() { return this.__doc.text(this.__keys); }
    html() { return this.__keys.length ? this.__doc.inner(this.__keys[0]) : ''; }
    attr(name, def) {
      const k = this.__keys[0];
      const v = k === undefined ? UNDEF : this.__doc.attr(k, String(name));
      if (v === undefined) return arguments.length > 1 ? def : UNDEF;
      return v;
    }
    val() { return valOf(this.__doc, this.__keys); }
    data(key) {
      const doc = this.__doc;
      const k = this.__keys[0];
      if (k === undefined) return UNDEF;
      const attrs = doc.attrs(k);
      if (!attrs.length) return UNDEF;
      if (key !== undefined) {
        const v = doc.attr(k, 'data-' + propertyToAttr(String(key)));
        return v === undefined ? UNDEF : dataValue(v);
      }
      const out = {};
      for (const [name, value] of attrs) {
        if (name.startsWith('data-') && name.length > 5) out[attrToProperty(name.slice(5))] = dataValue(value);
      }
      return out;
    }
    each(fn) {
      if (typeof fn !== 'function') throw new Error('the argument to each() must be a function');
      this.__keys.forEach((k, i) => {
        try {
          fn.call(fn, i, element(this.__doc, k, this.url));
        } catch (e) {
          throw new Error(`the function passed to each() failed: ${e && e.message !== undefined ? e.message : e}`);
        }
      });
      return this;
    }
    map(fn) {
      if (typeof fn !== 'function') throw new Error('the argument to map() must be a function');
      const out = [];
      this.__keys.forEach((k, i) => {
        let r;
        try { r = fn.call(fn, i, sel(this.__doc, [k], this.url, this)); } catch (e) { return; }
        out.push(r);
      });
      return out;
    }
    get(i) {
      const len = this.__keys.length;
      if (i === undefined) return this.__keys.map((k) => element(this.__doc, k, this.url));
      if (i < len && i > -len) return element(this.__doc, this.__keys[i < 0 ? i + len : i], this.url);
      return UNDEF;
    }
    toArray() { return this.__keys.map((k) => sel(this.__doc, [k], this.url, this)); }
    index(arg) {
      const doc = this.__doc;
      const k0 = this.__keys[0];
      if (arg === undefined) {
        if (k0 === undefined) return -1;
        return walkSiblings(doc, k0, prevOf).length;
      }
      if (arg instanceof Selection) return arg.__keys.length ? this.__keys.indexOf(arg.__keys[0]) : -1;
      if (arg instanceof Element) return this.__keys.indexOf(arg.__key);
      if (typeof arg === 'string') {
        if (k0 === undefined) return -1;
        return doc.select([doc.root()], arg).indexOf(k0);
      }
      return -1;
    }
    serializeArray() {
      const doc = this.__doc;
      const submittable = 'input,select,textarea,keygen';
      const isForm = doc.matching(this.__keys, 'form').length > 0;
      const fields = isForm ? doc.select(this.__keys, submittable) : doc.matching(this.__keys, submittable);
      const out = [];
      for (const k of fields) {
        const a = (name) => { const v = doc.attr(k, name); return v === undefined ? '' : v; };
        const type = a('type');
        const ok = a('name') !== '' && a('disabled') !== 'disabled' &&
          !['submit', 'button', 'reset', 'image', 'file'].includes(type) &&
          (a('checked') === 'checked' || (type !== 'checkbox' && type !== 'radio'));
        if (ok) out.push({ name: a('name'), value: valOf(doc, [k]) });
      }
      return out;
    }
    serializeObject() {
      const out = {};
      for (const { name, value } of this.serializeArray()) out[name] = value;
      return out;
    }
    serialize() {
      // Go's url.Values.Encode: keys sorted, values of a key in order, query escaping.
      const values = {};
      for (const { name, value } of this.serializeArray()) {
        if (typeof value === 'string') values[name] = [value];
        else if (Array.isArray(value)) values[name] = value;
      }
      const esc = (s) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
      return Object.keys(values).sort().map((k) => values[k].map((v) => esc(k) + '=' + esc(v)).join('&')).join('&');
    }
  }

  // ---- Element ----------------------------------------------------------------------------
  const NAMESPACES = { svg: 'http://www.w3.org/2000/svg', math: 'http://www.w3.org/1998/Math/MathML' };
  const nsURI = (p) => NAMESPACES[p] || 'http://www.w3.org/1999/xhtml';

  function element(doc, k, url) {
    if (k === undefined || k === null) return UNDEF;
    const e = Object.create((TAG_PROTOS[doc.kind(k) === 1 ? doc.name(k) : ''] || Element).prototype);
    Object.defineProperty(e, '__doc', { value: doc });
    Object.defineProperty(e, '__key', { value: k });
    Object.defineProperty(e, '__page', { value: url });
    return e;
  }
  function elements(s) { return s.__keys.map((k) => element(s.__doc, k, s.url)); }

  function resolveURL(base, value) {
    return base ? n.htmlResolve(base, value) : value;
  }

  class Element {
    constructor() { throw new TypeError('Element objects come from a Selection'); }
    get __sel() { return sel(this.__doc, [this.__key], this.__page); }
    __attr(name) { const v = this.__doc.attr(this.__key, name); return v === undefined ? '' : v; }
    __has(name) { return this.__doc.attr(this.__key, name) !== undefined; }
    __int(name, def) {
      const v = this.__doc.attr(this.__key, name);
      if (v === undefined || !/^[-+]?\d+$/.test(v)) return def;
      return parseInt(v, 10);
    }
    __urlAttr(name, def) {
      if (!this.__page) return this.__attr(name);
      const v = this.__doc.attr(this.__key, name);
      if (v === undefined) return def;
      const r = resolveURL(this.__page, v);
      return r === undefined ? def : r;
    }
    __form() {
      let form = this.__sel.closest('form');
      if (form.size() === 0) {
        const id = this.__attr('form');
        if (id === '') return UNDEF;
        form = sel(this.__doc, [this.__doc.root()], this.__page).find('#' + id);
      }
      return form.size() ? element(this.__doc, form.__keys[0], this.__page) : UNDEF;
    }
    __labels() {
      const wrapper = this.__sel.closest('label');
      const id = this.__attr('id');
      if (id === '') return elements(wrapper);
      const byId = sel(this.__doc, [this.__doc.root()], this.__page).find(`label[for="${id}"]`);
      return elements(byId.size() ? wrapper.add(byId) : wrapper);
    }

    getAttribute(name) { return this.__sel.attr(name); }
    getAttributeNode(name) {
      const found = this.__doc.attrs(this.__key).find((a) => a[0] === name);
      return found ? attribute(this, found) : UNDEF;
    }
    hasAttribute(name) { return this.__has(String(name)); }
    hasAttributes() { return this.__doc.attrs(this.__key).length > 0; }
    attributes() {
      const out = {};
      for (const a of this.__doc.attrs(this.__key)) out[a[0]] = attribute(this, a);
      return out;
    }
    toString() {
      return this.__doc.kind(this.__key) === 1 ? '[object html.Node]' : `[object ${this.nodeName()}]`;
    }
    hasChildNodes() { return this.__doc.firstChild(this.__key) !== undefined && this.__doc.firstChild(this.__key) !== null; }
    textContent() { return this.__doc.text([this.__key]); }
    id() { return this.__attr('id'); }
    isEqualNode(other) { return plain(other) && this.__doc.inner(this.__key) === other.__doc.inner(other.__key); }
    isSameNode(other) { return plain(other) && other.__doc === this.__doc && other.__key === this.__key; }
    selection() { return this.__sel; }
    getElementsByClassName(name) { return elements(this.__sel.find('.' + name)); }
    getElementsByTagName(name) { return elements(this.__sel.find(String(name))); }
    querySelector(selector) { return element(this.__doc, this.__doc.select([this.__key], String(selector))[0], this.__page); }
    querySelectorAll(selector) { return elements(this.__sel.find(String(selector))); }
    nodeName() { return this.__doc.name(this.__key); }
    firstChild() { return element(this.__doc, this.__doc.firstChild(this.__key), this.__page); }
    lastChild() { return element(this.__doc, this.__doc.lastChild(this.__key), this.__page); }
    firstElementChild() { return element(this.__doc, elementChildren(this.__doc, this.__key)[0], this.__page); }
    lastElementChild() { const c = elementChildren(this.__doc, this.__key); return element(this.__doc, c[c.length - 1], this.__page); }
    previousSibling() { return element(this.__doc, this.__doc.prev(this.__key), this.__page); }
    nextSibling() { return element(this.__doc, this.__doc.next(this.__key), this.__page); }
    previousElementSibling() { return element(this.__doc, firstElementSibling(this.__doc, this.__key, prevOf), this.__page); }
    nextElementSibling() { return element(this.__doc, firstElementSibling(this.__doc, this.__key, nextOf), this.__page); }
    parentNode() { return element(this.__doc, this.__doc.parent(this.__key), this.__page); }
    parentElement() {
      const p = this.__doc.parent(this.__key);
      return p !== undefined && p !== null && isElem(this.__doc, p) ? element(this.__doc, p, this.__page) : UNDEF;
    }
    childNodes() { return this.__doc.children(this.__key).map((k) => element(this.__doc, k, this.__page)); }
    children() { return elementChildren(this.__doc, this.__key).map((k) => element(this.__doc, k, this.__page)); }
    childElementCount() { return elementChildren(this.__doc, this.__key).length; }
    classList() { const c = this.__doc.attr(this.__key, 'class'); return c === undefined ? UNDEF : c.split(/\s+/).filter((x) => x !== ''); }
    className() { return this.__sel.attr('class'); }
    lang() { const a = this.__doc.attrs(this.__key).find((x) => x[0] === 'lang' && x[2] === ''); return a ? a[1] : UNDEF; }
    ownerDocument() { return element(this.__doc, this.__doc.root(), this.__page); }
    namespaceURI() { return nsURI(this.__doc.namespace(this.__key)); }
    isDefaultNamespace() { return this.__doc.namespace(this.__key) === ''; }
    innerHTML() { return this.__doc.inner(this.__key); }
    nodeType() { const t = this.__doc.kind(this.__key); return t === 0 ? UNDEF : t; }
    nodeValue() { const t = this.__doc.kind(this.__key); return t === 3 || t === 8 ? this.__doc.text([this.__key]) : UNDEF; }
    contains(other) { return plain(other) && other.__doc === this.__doc && other.__key !== this.__key && this.__doc.contains(this.__key, other.__key); }
    matches(selector) { return this.__doc.matching([this.__key], String(selector)).length > 0; }
  }

  function plain(o) { return o instanceof Element && Object.getPrototypeOf(o) === Element.prototype; }

  function attribute(owner, [name, value, prefix]) {
    return {
      owner_element: owner, name, value,
      prefix() { return prefix; },
      namespaceURI() { return nsURI(prefix); },
      localName() { return name; },
    };
  }

  // Attribute-backed properties of the element types (k6's elements_gen.go): [method, attr, kind, arg].
  // kinds: s string, b bool, i int (arg = default), u URL (arg = default: '' or the page URL),
  // e enum (arg = allowed values, the first is the default), n nullable enum, c constant.
  const REFERRER = ['', 'no-referrer', 'no-referrer-when-downgrade', 'origin', 'origin-when-cross-origin', 'unsafe-url'];
  const CROSS = ['anonymous', 'use-credentials'];
  const HREF = [['download', 'download', 's'], ['referrerPolicy', 'referrerpolicy', 'e', REFERRER], ['rel', 'rel', 's'],
    ['href', 'href', 'u', ''], ['target', 'target', 's'], ['type', 'type', 's'], ['accessKey', 'accesskey', 's'],
    ['hrefLang', 'hreflang', 's'], ['toString', 'href', 'u', '']];
  const MEDIA = [['autoplay', 'autoplay', 'b'], ['controls', 'controls', 'b'], ['loop', 'loop', 'b'], ['muted', 'muted', 'b'],
    ['preload', 'preload', 'e', ['auto', 'metadata', 'none']], ['src', 'src', 'u', ''], ['crossOrigin', 'crossorigin', 'n', CROSS],
    ['currentSrc', 'src', 's'], ['defaultMuted', 'muted', 'b'], ['mediaGroup', 'mediagroup', 's']];
  const INPUT_TYPES = ['text', 'button', 'checkbox', 'color', 'date', 'datetime-local', 'email', 'file', 'hidden', 'image', 'month',
    'number', 'password', 'radio', 'range', 'reset', 'search', 'submit', 'tel', 'time', 'url', 'week'];
  const SPECS = {
    a: HREF, area: HREF, audio: MEDIA, video: MEDIA,
    base: [['href', 'href', 'u', 'PAGE'], ['target', 'target', 's']],
    button: [['accessKey', 'accesskey', 's'], ['autofocus', 'autofocus', 'b'], ['disabled', 'disabled', 'b'], ['tabIndex', 'tabindex', 'i', 0],
      ['type', 'type', 'e', ['submit', 'button', 'menu', 'reset']], ['value', 'value', 's'], ['name', 'name', 's']],
    data: [['value', 'value', 's']],
    embed: [['height', 'height', 's'], ['width', 'width', 's'], ['src', 'src', 's'], ['type', 'type', 's']],
    fieldset: [['disabled', 'disabled', 'b'], ['name', 'name', 's']],
    form: [['action', 'action', 'u', ''], ['name', 'name', 's'], ['target', 'target', 's'],
      ['enctype', 'enctype', 'e', ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']],
      ['encoding', 'enctype', 'e', ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']],
      ['acceptCharset', 'accept-charset', 's'], ['autocomplete', 'autocomplete', 'e', ['on', 'off']], ['noValidate', 'novalidate', 'b']],
    iframe: [['allowfullscreen', 'allowfullscreen', 'b'], ['referrerPolicy', 'referrerpolicy', 'e', REFERRER], ['height', 'height', 's'],
      ['width', 'width', 's'], ['name', 'name', 's'], ['src', 'src', 'u', '']],
    img: [['currentSrc', 'src', 'u', ''], ['sizes', 'sizes', 's'], ['srcset', 'srcset', 's'], ['alt', 'alt', 's'], ['crossOrigin', 'crossorigin', 'n', CROSS],
      ['height', 'height', 'i', 0], ['width', 'width', 'i', 0], ['isMap', 'ismap', 'b'], ['name', 'name', 's'], ['src', 'src', 'u', ''],
      ['useMap', 'usemap', 's'], ['referrerPolicy', 'referrerpolicy', 'e', REFERRER]],
    input: [['name', 'name', 's'], ['tabIndex', 'tabindex', 'i', 0], ['type', 'type', 'e', INPUT_TYPES], ['disabled', 'disabled', 'b'],
      ['autofocus', 'autofocus', 'b'], ['required', 'required', 'b'], ['value', 'value', 's'], ['checked', 'checked', 'b'],
      ['defaultChecked', 'checked', 'b'], ['alt', 'alt', 's'], ['src', 'src', 'u', ''], ['height', 'height', 's'], ['width', 'width', 's'],
      ['accept', 'accept', 's'], ['autocomplete', 'autocomplete', 'e', ['on', 'off']], ['maxLength', 'maxlength', 'i', -1], ['size', 'size', 'i', 0],
      ['pattern', 'pattern', 's'], ['placeholder', 'placeholder', 's'], ['readonly', 'readonly', 'b'], ['min', 'min', 's'], ['max', 'max', 's'],
      ['defaultValue', 'value', 's'], ['dirName', 'dirname', 's'], ['accessKey', 'accesskey', 's'], ['multiple', 'multiple', 'b'], ['step', 'step', 's']],
    label: [['htmlFor', 'for', 's']],
    legend: [['accessKey', 'accesskey', 's']],
    li: [['value', 'value', 'i', 0], ['type', 'type', 'e', ['', '1', 'a', 'A', 'i', 'I', 'disc', 'square', 'circle']]],
    link: [['crossOrigin', 'crossorigin', 'n', CROSS], ['referrerPolicy', 'referrerpolicy', 'e', REFERRER], ['href', 'href', 'u', ''],
      ['hreflang', 'hreflang', 's'], ['media', 'media', 's'], ['rel', 'rel', 's'], ['target', 'target', 's'], ['type', 'type', 's']],
    map: [['name', 'name', 's']],
    meta: [['content', 'content', 's'], ['name', 'name', 's'], ['httpEquiv', 'http-equiv', 'e', ['content-type', 'default-style', 'refresh']]],
    meter: [['min', 'min', 'i', 0], ['max', 'max', 'i', 0], ['high', 'high', 'i', 0], ['low', 'low', 'i', 0], ['optimum', 'optimum', 'i', 0]],
    del: [['cite', 'cite', 's'], ['datetime', 'datetime', 's']], ins: [['cite', 'cite', 's'], ['datetime', 'datetime', 's']],
    object: [['data', 'data', 'u', ''], ['height', 'height', 's'], ['name', 'name', 's'], ['type', 'type', 's'], ['tabIndex', 'tabindex', 'i', 0],
      ['typeMustMatch', 'typemustmatch', 'b'], ['useMap', 'usemap', 's'], ['width', 'width', 's']],
    ol: [['reversed', 'reversed', 'b'], ['start', 'start', 'i', 0], ['type', 'type', 'e', ['1', 'a', 'A', 'i', 'I']]],
    optgroup: [['disabled', 'disabled', 'b'], ['label', 'label', 's']],
    option: [['defaultSelected', 'selected', 'b'], ['selected', 'selected', 'b']],
    output: [['htmlFor', 'for', 's'], ['name', 'name', 's'], ['type', 'type', 'c', 'output']],
    param: [['name', 'name', 's'], ['value', 'value', 's']],
    pre: [['name', 'name', 's'], ['value', 'value', 's']],
    quote: [['cite', 'cite', 's']],
    script: [['crossOrigin', 'crossorigin', 's'], ['type', 'type', 's'], ['src', 'src', 'u', ''], ['charset', 'charset', 's'],
      ['async', 'async', 'b'], ['defer', 'defer', 'b'], ['noModule', 'nomodule', 'b']],
    select: [['autofocus', 'autofocus', 'b'], ['disabled', 'disabled', 'b'], ['multiple', 'multiple', 'b'], ['name', 'name', 's'],
      ['required', 'required', 'b'], ['tabIndex', 'tabindex', 'i', 0]],
    source: [['keySystem', 'keysystem', 's'], ['media', 'media', 's'], ['sizes', 'sizes', 's'], ['src', 'src', 'u', ''], ['srcset', 'srcset', 's'], ['type', 'type', 's']],
    style: [['media', 'media', 's']],
    table: [['sortable', 'sortable', 'b']],
    td: [['colSpan', 'colspan', 'i', 1], ['rowSpan', 'rowspan', 'i', 1], ['headers', 'headers', 's']],
    th: [['colSpan', 'colspan', 'i', 1], ['rowSpan', 'rowspan', 'i', 1], ['headers', 'headers', 's'], ['abbr', 'abbr', 's'],
      ['scope', 'scope', 'e', ['', 'row', 'col', 'colgroup', 'rowgroup']], ['sorted', 'sorted', 'b']],
    textarea: [['type', 'type', 'c', 'textarea'], ['value', 'value', 's'], ['defaultValue', 'value', 's'], ['placeholder', 'placeholder', 's'],
      ['rows', 'rows', 'i', 0], ['cols', 'cols', 'i', 0], ['maxLength', 'maxlength', 'i', 0], ['tabIndex', 'tabindex', 'i', 0]],
  };

  function accessor(attr, kind, arg) {
    switch (kind) {
      case 's': return function () { return this.__attr(attr); };
      case 'b': return function () { return this.__has(attr); };
      case 'i': return function () { return this.__int(attr, arg); };
      case 'u': return function () { return this.__urlAttr(attr, arg === 'PAGE' ? this.__page : arg); };
      case 'c': return function () { return arg; };
      case 'e': return function () { const v = this.__attr(attr); return arg.includes(v) ? v : arg[0]; };
      default: return function () { const v = this.__attr(attr); return arg.includes(v) ? v : UNDEF; };
    }
  }

  // Parts of the element's href resolved against the page, as Go's url.URL has them.
  function hrefParts(e) {
    const u = n.htmlUrl(e.__urlAttr('href', ''));
    return u === undefined || u === null ? null : u;
  }
  const hostOf = (u) => (u.port ? u.hostname + ':' + u.port : u.hostname);
  const HREF_EXTRA = {
    hash() { const u = hrefParts(this); return u && u.fragment ? '#' + u.fragment : ''; },
    host() { const u = hrefParts(this); return u ? hostOf(u) : ''; },
    hostname() { const u = hrefParts(this); return u ? u.hostname : ''; },
    port() { const u = hrefParts(this); return u ? u.port : ''; },
    username() { const u = hrefParts(this); return u ? u.username : ''; },
    password() { const u = hrefParts(this); return u ? u.password : ''; },
    origin() {
      const u = hrefParts(this);
      if (!u || !u.scheme) return '';
      return u.scheme === 'file' ? this.href() : u.scheme + '://' + hostOf(u);
    },
    pathname() { const u = hrefParts(this); return u ? u.path : ''; },
    protocol() { const u = hrefParts(this); return u && u.scheme ? u.scheme : ':'; },
    relList() { const r = this.__attr('rel'); return r === '' ? [] : r.split(' '); },
    search() { const u = hrefParts(this); return u && u.query ? '?' + u.query : ''; },
    text() { return this.textContent(); },
  };
  const FORM_FIELD = { form() { return this.__form(); }, labels() { return this.__labels(); } };
  const EXTRA = {
    a: HREF_EXTRA, area: HREF_EXTRA,
    button: FORM_FIELD, input: FORM_FIELD, keygen: FORM_FIELD, label: {
      form() { return this.__form(); },
      control() {
        const f = this.__doc.attr(this.__key, 'for');
        if (f === undefined) return UNDEF;
        const found = sel(this.__doc, [this.__doc.root()], this.__page).find('#' + f);
        return found.size() ? element(this.__doc, found.__keys[0], this.__page) : UNDEF;
      },
    },
    legend: { form() { return this.__form(); } },
    fieldset: { form() { return this.__form(); }, type() { return 'fieldset'; }, elements() { return elements(this.__sel.find('input,select,button,textarea,fieldset')); } },
    form: {
      elements() { return elements(this.__sel.find('input,select,button,textarea,fieldset')); },
      length() { return this.__sel.find('input,select,button,textarea,fieldset').size(); },
      method() { return this.__attr('method') === 'post' ? 'post' : 'get'; },
    },
    link: { relList() { const r = this.__attr('rel'); return r === '' ? [] : r.split(' '); } },
    map: { areas() { return elements(this.__sel.find('area')); } },
    object: { form() { return this.__form(); } },
    meter: { labels() { return this.__labels(); } },
    output: { form() { return this.__form(); }, labels() { return this.__labels(); }, value() { return this.textContent(); }, defaultValue() { return this.textContent(); } },
    option: {
      disabled() { return this.__has('disabled') || this.__sel.parents('optgroup').attr('disabled') !== undefined; },
      form() {
        const f = this.__sel.parents('form');
        if (f.size()) return element(this.__doc, f.__keys[0], this.__page);
        const id = this.__sel.parents('select').attr('form');
        if (id === undefined) return UNDEF;
        const found = sel(this.__doc, [this.__doc.root()], this.__page).find('form#' + id);
        return found.size() ? element(this.__doc, found.__keys[0], this.__page) : UNDEF;
      },
      index() {
        const holder = this.__sel.parents('select,datalist');
        if (!holder.size()) return 0;
        return holder.find('option').__keys.indexOf(this.__key);
      },
      label() { const l = this.__doc.attr(this.__key, 'label'); return l === undefined ? this.textContent() : l; },
      text() { return this.textContent(); },
      value() { return valueOrHtml(this.__doc, this.__key); },
    },
    script: { text() { return this.textContent(); } },
    select: {
      form() { return this.__form(); }, labels() { return this.__labels(); },
      length() { return this.__sel.find('option').size(); },
      options() { return elements(this.__sel.find('option')); },
      selectedIndex() { const o = this.__sel.find('option[selected]'); return o.size() ? this.__sel.find('option').__keys.indexOf(o.__keys[0]) : -1; },
      selectedOptions() { return elements(this.__sel.find('option[selected]')); },
      size() { return this.__has('multiple') ? 4 : 1; },
      type() { return this.__has('multiple') ? 'select-multiple' : 'select'; },
      value() { const o = this.__sel.find('option[selected]'); return o.size() ? valueOrHtml(this.__doc, o.__keys[0]) : ''; },
    },
    style: { type() { const t = this.__attr('type'); return t === '' ? 'text/css' : t; } },
    table: {
      caption() { return element(this.__doc, this.__sel.children('caption').__keys[0], this.__page); },
      tHead() { return element(this.__doc, this.__sel.children('thead').__keys[0], this.__page); },
      tFoot() { return element(this.__doc, this.__sel.children('tfoot').__keys[0], this.__page); },
      rows() { return elements(this.__sel.find('tr')); },
      tBodies() { return elements(this.__sel.children('tbody')); },
    },
    thead: { rows() { return elements(this.__sel.find('tr')); } },
    tbody: { rows() { return elements(this.__sel.find('tr')); } },
    tfoot: { rows() { return elements(this.__sel.find('tr')); } },
    tr: { cells() { return elements(this.__sel.find('th,td')); } },
    td: { cellIndex() { return this.__sel.prevAll('td,th').size(); } },
    th: { cellIndex() { return this.__sel.prevAll('td,th').size(); } },
    textarea: { form() { return this.__form(); }, labels() { return this.__labels(); } },
  };

  // The tags k6 gives a type of their own (elements_gen.go). isSameNode, isEqualNode and contains
  // in k6 only recognise an argument of the plain type, so an <li> or <a> there compares false.
  const TYPED = ['a', 'area', 'audio', 'base', 'button', 'canvas', 'data', 'datalist', 'del', 'embed', 'fieldset', 'form',
    'iframe', 'img', 'input', 'ins', 'keygen', 'label', 'legend', 'li', 'link', 'map', 'meta', 'meter', 'ol', 'object',
    'optgroup', 'option', 'output', 'param', 'pre', 'progress', 'quote', 'script', 'select', 'source', 'style', 'table',
    'tbody', 'col', 'td', 'tfoot', 'thead', 'th', 'tr', 'textarea', 'time', 'title', 'track', 'ul', 'video'];
  const TAG_PROTOS = {};
  for (const tag of new Set(TYPED.concat(Object.keys(SPECS), Object.keys(EXTRA)))) {
    const cls = class extends Element {};
    for (const [method, attr, kind, arg] of SPECS[tag] || []) {
      Object.defineProperty(cls.prototype, method, { value: accessor(attr, kind, arg), writable: true, configurable: true });
    }
    for (const [method, fn] of Object.entries(EXTRA[tag] || {})) {
      Object.defineProperty(cls.prototype, method, { value: fn, writable: true, configurable: true });
    }
    TAG_PROTOS[tag] = cls;
  }

  function parseHTML(src) {
    const text = src === undefined || src === null ? '' : String(src);
    const doc = n.htmlParse(text);
    return sel(doc, [doc.root()], '', UNDEF);
  }

  function fromResponse(body, url) {
    const doc = n.htmlParse(body);
    return sel(doc, [doc.root()], url, UNDEF);
  }

  return { parseHTML, fromResponse, Selection, Element };
})()
