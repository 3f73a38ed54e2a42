interface Nothing {}
type X = { a: number };

export default function (): void {
  const x: X = { a: 1 };
  throw new Error(`boom ${x.a}`);
}
