// k6/experimental/fs as k6 v1.1 has it: open() (init context, a Promise of a File), File.read,
// File.seek, File.stat, SeekMode. Rejections are k6's fsError objects ({name, message}).
const n = globalThis.__k6;

export const SeekMode = Object.freeze({ Start: 0, Current: 1, End: 2 });

function fsError(name, message) {
  const e = { name, message };
  Object.defineProperty(e, 'toString', { value: () => `${name}: ${message}` });
  return e;
}

const contents = new WeakMap();

export class File {
  constructor() {
    throw new TypeError('File objects are made by open()');
  }
}

function makeFile(path, data) {
  const file = Object.create(File.prototype);
  file.path = path;
  const bytes = new Uint8Array(data);
  const state = { bytes, offset: 0 };
  contents.set(file, state);
  const name = path.split('/').pop();
  file.stat = () => Promise.resolve({ name, size: bytes.length });
  file.read = (into) => {
    if (into === null || into === undefined) {
      return Promise.reject(fsError('TypeError', 'read() failed; reason: into argument cannot be null or undefined'));
    }
    if (!(into instanceof Uint8Array) || into.constructor !== Uint8Array) {
      return Promise.reject(fsError('TypeError', 'read() failed; reason: into argument must be a Uint8Array'));
    }
    if (state.offset === bytes.length) return Promise.resolve(null);
    // As k6: up to the size of the view's whole buffer, copied to the buffer's start.
    const end = Math.min(state.offset + into.buffer.byteLength, bytes.length);
    new Uint8Array(into.buffer).set(bytes.subarray(state.offset, end), 0);
    const count = end - state.offset;
    state.offset = end;
    return Promise.resolve(count);
  };
  file.seek = (offset, whence) => {
    const check = (v, what) => {
      if (v === null || v === undefined) return `the ${what} argument cannot be null or undefined`;
      if (typeof v !== 'number' || !Number.isInteger(v)) return `the ${what} argument must be a number`;
      return '';
    };
    const bad = check(offset, 'offset') || check(whence, 'whence');
    if (bad) return Promise.reject(fsError('TypeError', `seek() failed; reason: ${bad}`));
    let next = state.offset;
    switch (whence) {
      case SeekMode.Start:
        if (offset < 0) return Promise.reject(fsError('TypeError', 'offset cannot be negative when using SeekModeStart'));
        next = offset;
        break;
      case SeekMode.Current:
        next += offset;
        break;
      case SeekMode.End:
        if (offset > 0) return Promise.reject(fsError('TypeError', 'offset cannot be positive when using SeekModeEnd'));
        next = bytes.length - 1 + offset;
        break;
      default:
        return Promise.reject(fsError('TypeError', 'seek() failed; reason: the whence argument must be a SeekMode'));
    }
    if (next < 0) return Promise.reject(fsError('TypeError', 'seeking before start of file'));
    if (next > bytes.length) return Promise.reject(fsError('TypeError', 'seeking beyond end of file'));
    state.offset = next;
    return Promise.resolve(next);
  };
  return file;
}

// The bytes of a File from its current offset to the end, for k6/experimental/csv (which reads
// the file as k6's does); undefined for anything but a File.
n.fsRemaining = (file) => {
  const state = contents.get(file);
  if (!state) return undefined;
  const rest = state.bytes.subarray(state.offset);
  state.offset = state.bytes.length;
  return rest;
};

export function open(path) {
  if (path === null || path === undefined) {
    return Promise.reject(fsError('TypeError', 'open() failed; reason: path cannot be null or undefined'));
  }
  const p = String(path);
  if (p === '') return Promise.reject(fsError('TypeError', 'open() failed; reason: path cannot be empty'));
  const got = n.fsOpen(p);
  if (got.error) return Promise.reject(fsError(got.error, got.message));
  return Promise.resolve(makeFile(got.path, got.data));
}

export default { open, SeekMode };
