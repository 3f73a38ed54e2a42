// exact: iterations checks
// k6 exit: 0
// TypeScript modules imported by a script, as k6 v1.1 runs them (types stripped by esbuild there,
// by oxc here): interfaces, type aliases, `import type`, generics, enums (numeric, reverse
// mapping), namespaces, parameter properties, abstract classes, `as`/`satisfies`/`!`, private
// fields. (Positions in the .ts source are checked by tests/it/cli_typescript.rs: they are mapped
// where loadgate shows an error, not in an `e.stack` the script reads itself.)
import { check } from 'k6';
import { Greeter, summary, fails, defaults } from './lib/greeter.ts';

export const options = { ...defaults, thresholds: { checks: ['rate==1'] } };

export default function () {
  const g = new Greeter('ts');
  const s = summary();
  check(null, {
    'class and namespace': () => g.greet() === 'hello ts',
    'private field': () => g.secret() === 7,
    'parameter property stays private in types only': () => g.who === 'ts',
    'add': () => JSON.stringify(s.sum) === '{"x":4,"y":6}',
    'enum reverse mapping': () => s.dir === 'Down',
    'box': () => s.box === 'label:v',
    'options from a .ts module': () => defaults.iterations === 3,
    'error message': () => { try { fails(); } catch (e) { return e.message === 'typed failure'; } return false; },
  });
}
