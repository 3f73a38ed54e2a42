// k6/net/grpc: `Client` (load, loadProtoset, connect, invoke, asyncInvoke, close), `Stream`
// (on('data'|'error'|'end'), write, end) and the status constants. Descriptors, calls, streams
// and metrics are native (js::modules::grpc); this file keeps the API shapes and the stream
// handlers, which the natives call through `globalThis.__lgGrpcStreams[id].__event`.
const n = globalThis.__k6;
const streams = globalThis.__lgGrpcStreams;

// k6 exposes grpc-go's codes.Code values as wrapped Go values: objects (typeof 'object') that
// are numbers in arithmetic and JSON, print as the code's name, and compare equal (===) only
// to the same code as responses carry it. One object per code gives the same.
const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];
const CODES = new Map();
function code(n) {
  let c = CODES.get(n);
  if (c === undefined) {
    c = new Number(n);
    const name = CODE_NAMES[n] === undefined ? `Code(${n})` : CODE_NAMES[n];
    Object.defineProperty(c, 'toString', { value: () => name });
    CODES.set(n, c);
  }
  return c;
}
export const StatusOK = code(0);
export const StatusCanceled = code(1);
export const StatusUnknown = code(2);
export const StatusInvalidArgument = code(3);
export const StatusDeadlineExceeded = code(4);
export const StatusNotFound = code(5);
export const StatusAlreadyExists = code(6);
export const StatusPermissionDenied = code(7);
export const StatusResourceExhausted = code(8);
export const StatusFailedPrecondition = code(9);
export const StatusAborted = code(10);
export const StatusOutOfRange = code(11);
export const StatusUnimplemented = code(12);
export const StatusInternal = code(13);
export const StatusUnavailable = code(14);
export const StatusDataLoss = code(15);
export const StatusUnauthenticated = code(16);

function wrapResponse(r) {
  r.status = code(r.status);
  return r;
}

export class Client {
  constructor() {
    Object.defineProperty(this, '__lgGrpcClient', { value: n.grpcClient() });
  }
  load(importPaths, ...protoFiles) {
    return n.grpcLoad(this.__lgGrpcClient, importPaths, protoFiles.map(String));
  }
  loadProtoset(protosetPath) {
    return n.grpcLoadProtoset(this.__lgGrpcClient, String(protosetPath));
  }
  connect(address, params) {
    return n.grpcConnect(this.__lgGrpcClient, String(address), params);
  }
  invoke(method, request, params) {
    return wrapResponse(n.grpcInvoke(this.__lgGrpcClient, String(method), request, params));
  }
  asyncInvoke(method, request, params) {
    return n.grpcAsyncInvoke(this.__lgGrpcClient, String(method), request, params).then(wrapResponse);
  }
  close() {
    n.grpcClose(this.__lgGrpcClient);
  }
}

const EVENTS = ['data', 'error', 'end', 'status'];

export class Stream {
  constructor(client, method, params) {
    if (client === undefined || client === null) throw new Error("invalid GRPC Stream's client: empty gRPC client");
    const id = n.grpcStreamOpen(client, String(method), params);
    Object.defineProperty(this, '__id', { value: id });
    Object.defineProperty(this, '__handlers', { value: { data: [], error: [], end: [], status: [] } });
    Object.defineProperty(this, '__writing', { value: true, writable: true });
    Object.defineProperty(this, '__done', { value: false, writable: true });
    streams[id] = this;
  }
  on(event, handler) {
    if (typeof handler !== 'function') throw new Error(`handler for "${event}" event isn't a callable function`);
    if (!EVENTS.includes(event)) {
      console.warn(`can't register ${event} event handler: unknown GRPC stream's event type: ${event}`);
      return;
    }
    this.__handlers[event].push(handler);
  }
  write(message) {
    if (!this.__writing) return;
    if (message === undefined || message === null) {
      console.warn("can't send empty message");
      return;
    }
    n.grpcStreamWrite(this.__id, JSON.stringify(message));
  }
  end() {
    if (!this.__writing) return;
    this.__writing = false;
    n.grpcStreamEnd(this.__id);
  }
  __event(kind, value) {
    if (this.__done) return;
    const meta = { ts: Math.floor(Date.now() / 1000) };
    if (kind === 'end') {
      this.__done = true;
      this.__writing = false;
      delete streams[this.__id];
      for (const h of this.__handlers.end) h({}, meta);
      return;
    }
    if (kind === 'error' && this.__handlers.error.length === 0) {
      console.warn(`no handlers for error registered, but an error happened: code: ${value.code}, message: ${value.message}`);
    }
    if (kind === 'error') value.code = code(value.code);
    for (const h of this.__handlers[kind]) h(value, meta);
  }
}

export default {
  Client,
  Stream,
  StatusOK,
  StatusCanceled,
  StatusUnknown,
  StatusInvalidArgument,
  StatusDeadlineExceeded,
  StatusNotFound,
  StatusAlreadyExists,
  StatusPermissionDenied,
  StatusResourceExhausted,
  StatusFailedPrecondition,
  StatusAborted,
  StatusOutOfRange,
  StatusUnimplemented,
  StatusInternal,
  StatusUnavailable,
  StatusDataLoss,
  StatusUnauthenticated,
};
