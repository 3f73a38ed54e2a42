// console.* arguments of every kind; tests/it/cli_terminal.rs compares the lines with the real k6's
// (`--log-format raw --console-output`): k6 prints objects, functions and errors by JSON.stringify,
// other values by the JS string conversion, a symbol by its description.
export const options = { iterations: 1 };
export default function () {
  const cyclic = {};
  cyclic.self = cyclic;
  console.log(null, undefined);
  console.log('a', 1, 1.5, true, null, [1, 'x', null], { a: 1, b: [2] });
  console.warn(undefined);
  console.error({ n: null, u: undefined });
  console.log(NaN, -0, Infinity, -Infinity, 1e21, 123456789012, 0.1, 10n);
  console.log(Symbol('s'), Symbol());
  console.log(function f() {}, [function () {}, undefined, Symbol('x')]);
  console.log(new Map([[1, 2]]), new Set([1]), new Date(0), new Uint8Array([1, 2]));
  console.log(new Error('boom'), cyclic, { toJSON() { return 'tj'; } });
  console.log('%s and %d', 'x', 5);
}
