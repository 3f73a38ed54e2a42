// k6/websockets (and k6/experimental/websockets): the browser-like WebSocket class and Blob.
// The socket runs natively (js::modules::ws) and reports to `__event`; listeners run on the VU's
// event loop, and an iteration lasts until its sockets have closed, as in k6.
const n = globalThis.__k6;
const sockets = globalThis.__lgSockets;
const TYPES = ['open', 'message', 'error', 'close', 'ping', 'pong'];
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

function bytesOf(part) {
  if (part instanceof Blob) return part.__bytes;
  if (part instanceof ArrayBuffer) return new Uint8Array(part.slice(0));
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
  return new Uint8Array(n.utf8Bytes(String(part)));
}

export class Blob {
  constructor(parts, options) {
    const chunks = (parts === undefined || parts === null ? [] : Array.from(parts)).map(bytesOf);
    const size = chunks.reduce((s, c) => s + c.length, 0);
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    Object.defineProperty(this, '__bytes', { value: all });
    Object.defineProperty(this, '__type', { value: options && options.type ? String(options.type).toLowerCase() : '' });
  }
  get size() { return this.__bytes.length; }
  get type() { return this.__type; }
  arrayBuffer() { return Promise.resolve(this.__bytes.slice().buffer); }
  bytes() { return Promise.resolve(this.__bytes.slice()); }
  text() { return Promise.resolve(n.utf8(this.__bytes.slice().buffer)); }
  slice(start, end, type) {
    const b = new Blob([], { type });
    Object.defineProperty(b, '__bytes', { value: this.__bytes.slice(start, end) });
    return b;
  }
  stream() { throw new Error('Blob.stream() is not supported by loadgate'); }
}

function event(target, type, extra) {
  const e = { type, target, timestamp: Date.now() };
  return Object.assign(e, extra);
}

export class WebSocket {
  constructor(url, protocols, params) {
    if (url === undefined || url === null) throw new Error('WebSocket requires a url');
    const u = String(url);
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(u);
    const scheme = m ? m[1].toLowerCase() : '';
    if (scheme !== 'ws' && scheme !== 'wss') throw new Error(`WebSocket requires url with scheme ws or wss, but got "${scheme}"`);
    const hash = u.indexOf('#');
    if (hash >= 0) throw new Error(`WebSocket requires no url fragment, but got "${u.slice(hash + 1)}"`);
    const s = { readyState: CONNECTING, binaryType: 'blob', protocol: '', listeners: {}, on: {} };
    for (const t of TYPES) s.listeners[t] = [];
    Object.defineProperty(this, '__s', { value: s });
    Object.defineProperty(this, 'url', { value: u, enumerable: true });
    const id = n.wsOpen(u, protocols === undefined ? null : protocols, params === undefined ? null : params);
    Object.defineProperty(this, '__id', { value: id });
    sockets[id] = this;
  }
  get readyState() { return this.__s.readyState; }
  get bufferedAmount() { return 0; }
  get extensions() { return []; }
  get protocol() { return this.__s.protocol; }
  get binaryType() { return this.__s.binaryType; }
  set binaryType(v) {
    if (v !== 'blob' && v !== 'arraybuffer') throw new Error(`unknown binaryType ${v}, the supported ones are "blob" and "arraybuffer"`);
    this.__s.binaryType = v;
  }
  addEventListener(type, handler) {
    if (typeof handler !== 'function') throw new Error(`handler for event type "${type}" isn't a callable function`);
    const list = this.__s.listeners[type];
    if (!list) {
      console.warn(`can't add event handler: unknown event type: ${type}`);
      return;
    }
    list.push(handler);
  }
  send(data) {
    if (this.__s.readyState !== OPEN) throw new Error('InvalidStateError');
    if (typeof data === 'string') n.wsSend(this.__id, data, false);
    else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data) || data instanceof Blob) n.wsSend(this.__id, bytesOf(data).buffer, true);
    else throw new Error(`unsupported send type ${data === null ? 'null' : typeof data}`);
  }
  ping() {
    if (this.__s.readyState !== OPEN) throw new Error('InvalidStateError');
    n.wsPing(this.__id);
  }
  close(code, reason) {
    const s = this.__s;
    if (s.readyState === CLOSED || s.readyState === CLOSING) return;
    const c = code === undefined || code === null ? 0 : Math.trunc(Number(code));
    if (c !== 0 && !(c === 1000 || (c >= 3000 && c <= 4999))) {
      throw new Error(`InvalidAccessError: Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${c} is neither`);
    }
    const r = reason === undefined || reason === null ? '' : String(reason);
    if (n.utf8Bytes(r).byteLength > 123) {
      throw new Error(`SyntaxError: Failed to execute 'close' on 'WebSocket': The message must not be greater than 123 bytes`);
    }
    s.readyState = CLOSING;
    n.wsClose(this.__id, c || 1000, r);
  }
  __fire(type, e) {
    const s = this.__s;
    const all = s.on[type] ? [s.on[type], ...s.listeners[type]] : s.listeners[type];
    for (const h of all) h(e);
  }
  __event(kind, a, b) {
    const s = this.__s;
    switch (kind) {
      case 'open':
        if (s.readyState !== CONNECTING) return;
        s.readyState = OPEN;
        s.protocol = a || '';
        this.__fire('open', event(this, 'open'));
        return;
      case 'message': {
        if (s.readyState !== OPEN) return;
        let data = a;
        if (typeof a !== 'string' && s.binaryType === 'blob') data = new Blob([a]);
        this.__fire('message', event(this, 'message', { data, origin: this.url }));
        return;
      }
      case 'error':
        this.__fire('error', event(this, 'error', { error: a }));
        return;
      case 'close': {
        if (s.readyState === CLOSED) return;
        s.readyState = CLOSED;
        delete sockets[this.__id];
        const extra = a ? { code: a, reason: b } : { reason: b };
        this.__fire('close', event(this, 'close', extra));
        return;
      }
      default:
        if (s.readyState === CLOSED) return;
        this.__fire(kind, event(this, kind));
    }
  }
}

for (const t of TYPES) {
  Object.defineProperty(WebSocket.prototype, `on${t}`, {
    get() { return this.__s.on[t]; },
    set(fn) {
      if (fn === null || fn === undefined) { delete this.__s.on[t]; return; }
      if (typeof fn !== 'function') throw new Error(`a value for 'on${t}' should be callable`);
      this.__s.on[t] = fn;
    },
  });
}

export default { WebSocket, Blob };
