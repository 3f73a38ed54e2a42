// setup() that never returns: setupTimeout ends it (k6: exit code 100).
export const options = { setupTimeout: '1s', iterations: 1 };
export function setup() { for (;;) {} }
export default function () {}
