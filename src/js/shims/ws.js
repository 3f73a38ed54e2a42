// k6/ws, the legacy WebSocket module: `ws.connect(url, params, callback)` dials (blocking), runs
// `callback(socket)`, fires `open`, then runs the VU's event loop until the socket closes and
// returns the handshake's response, as k6 does. Socket I/O and metrics are native
// (js::modules::ws); this file keeps the handlers and the socket's timers.
const n = globalThis.__k6;
const sockets = globalThis.__lgSockets;

function goError(message) {
  return { error: () => message, toString: () => message, message };
}

class Socket {
  constructor(id) {
    Object.defineProperty(this, '__id', { value: id });
    Object.defineProperty(this, '__handlers', { value: {} });
    Object.defineProperty(this, '__timers', { value: new Set(), writable: true });
    Object.defineProperty(this, '__closed', { value: false, writable: true });
  }
  on(event, handler) {
    if (typeof handler !== 'function') return;
    (this.__handlers[event] ||= []).push(handler);
  }
  __emit(event, ...args) {
    for (const h of this.__handlers[event] || []) h(...args);
  }
  __event(kind, a) {
    if (kind === 'error') this.__emit('error', goError(a));
    else if (kind === 'close') this.__finish(a);
    else if (kind === 'message' || kind === 'binaryMessage') this.__emit(kind, a);
    else this.__emit(kind);
  }
  __finish(code) {
    if (this.__closed) return;
    this.__closed = true;
    for (const t of this.__timers) clearTimeout(t);
    this.__timers.clear();
    this.__emit('close', code);
  }
  send(message) {
    n.wsSend(this.__id, String(message), false);
  }
  sendBinary(message) {
    if (message === undefined || message === null) {
      if (arguments.length === 0) throw new Error('missing argument, expected ArrayBuffer');
      throw new Error(`expected ArrayBuffer as argument, received: ${String(message)}`);
    }
    if (!(message instanceof ArrayBuffer)) {
      const name = message && message.constructor ? message.constructor.name : typeof message;
      throw new Error(`expected ArrayBuffer as argument, received: ${name}`);
    }
    n.wsSend(this.__id, message, true);
  }
  ping() {
    n.wsPing(this.__id);
  }
  setTimeout(fn, ms) {
    const d = Number(ms);
    if (!(d > 0)) throw new Error(`setTimeout requires a >0 timeout parameter, received ${(d || 0).toFixed(2)}`);
    const id = setTimeout(() => {
      this.__timers.delete(id);
      if (!this.__closed) fn();
    }, d);
    this.__timers.add(id);
  }
  setInterval(fn, ms) {
    const d = Number(ms);
    if (!(d > 0)) throw new Error(`setInterval requires a >0 timeout parameter, received ${(d || 0).toFixed(2)}`);
    const id = setInterval(() => {
      if (!this.__closed) fn();
    }, d);
    this.__timers.add(id);
  }
  close(code) {
    const c = code === undefined ? 1001 : Math.trunc(Number(code));
    if (this.__closed) return;
    n.wsClose(this.__id, c, '');
    this.__finish(c);
  }
}

export function connect(url, ...args) {
  let params;
  let callback;
  if (args.length === 2) [params, callback] = args;
  else if (args.length === 1) [callback] = args;
  else throw new Error('invalid number of arguments to ws.connect');
  if (typeof callback !== 'function') throw new Error('last argument to ws.connect must be a function');
  const r = n.wsConnect(String(url), params === null ? undefined : params);
  const id = r.id;
  delete r.id;
  if (!id) {
    delete r.failure;
    return r;
  }
  const socket = new Socket(id);
  sockets[id] = socket;
  try {
    try {
      callback(socket);
    } catch (e) {
      socket.close(1001);
      throw e;
    }
    socket.__emit('open');
  } catch (e) {
    n.wsRun(id);
    delete sockets[id];
    throw e;
  }
  try {
    n.wsRun(id);
  } finally {
    for (const t of socket.__timers) clearTimeout(t);
    socket.__closed = true;
    delete sockets[id];
  }
  return r;
}

export default { connect };
