// k6/encoding: base64 in its four variants.
const n = globalThis.__k6;

export function b64encode(input, encoding) {
  return n.b64encode(input, encoding === undefined ? 'std' : String(encoding));
}
export function b64decode(input, encoding, format) {
  return n.b64decode(String(input), encoding === undefined ? 'std' : String(encoding), format === undefined ? '' : String(format));
}
export default { b64encode, b64decode };
