// Imported by 33_typescript.js: a TypeScript module importing another one and a k6 module.
import type { Options } from 'k6/options';
import { sleep } from 'k6';
import { Box, Dir, add, type Point } from './shapes.ts';

export const defaults: Options = { iterations: 3 };

namespace Greeting {
  export const prefix = 'hello';
}

abstract class Base {
  abstract name(): string;
  greet(): string { return `${Greeting.prefix} ${this.name()}`; }
}

export class Greeter extends Base {
  #secret = 7;
  constructor(private readonly who: string) { super(); }
  name(): string { return this.who; }
  secret(): number { return this.#secret; }
}

export function summary(): { sum: Point; dir: string; box: string } {
  sleep(0);
  const sum = add({ x: 1, y: 2 }, { x: 3, y: 4 } as Point);
  return { sum, dir: Dir[Dir.Down], box: new Box<string>('v', 'label').describe() };
}

export function fails(): never {
  throw new Error('typed failure');
}
