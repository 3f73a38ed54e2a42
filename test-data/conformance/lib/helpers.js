// Helper module imported by the conformance scripts with a relative path (ES modules).
import { check } from 'k6';

export const TARGET = __ENV.TARGET || 'http://127.0.0.1:8099';

export function url(path) {
  return `${TARGET}${path}`;
}

export function sum(xs) {
  return xs.reduce((a, b) => a + b, 0);
}

export function checkStatus(res, code) {
  return check(res, { [`status is ${code}`]: (r) => r.status === code });
}

export default function greet(name) {
  return `hello ${name}`;
}
