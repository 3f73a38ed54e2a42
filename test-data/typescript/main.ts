import type { Options } from 'k6/options';
import { check } from 'k6';
import { add, Box, Dir, type Point } from './lib.ts';

export const options: Options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

const origin: Point = { x: 0, y: 0 };

export default function (): void {
  const p = add(origin, { x: 1, y: 2 } satisfies Point);
  const b = new Box<number>(42);
  check(p, {
    'add': (v) => v.x === 1 && v.y === 2,
    'enum': () => Dir.Down === 2 && Dir[2] === 'Down',
    'parameter properties': () => b.value === 42 && b.describe() === 'box:42',
    'non-null and as': () => (null as unknown as string | null)! === null,
  });
}
