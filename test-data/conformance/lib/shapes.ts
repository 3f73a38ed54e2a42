export interface Point { x: number; y: number }
export enum Dir { Up = 1, Down }
export class Box<T> {
  constructor(public readonly value: T, private label: string = 'box') {}
  describe(): string { return `${this.label}:${String(this.value)}`; }
}
export function add(a: Point, b: Point): Point {
  return { x: a.x + b.x, y: a.y + b.y };
}
