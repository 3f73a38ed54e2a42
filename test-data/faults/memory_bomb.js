// A memory bomb: every iteration hoards strings without end. With a per-VU memory limit the
// iteration fails with an out-of-memory error and the test goes on; the process stays small.
export const options = { iterations: 3 };
export default function () {
  const hoard = [];
  try {
    for (;;) hoard.push('x'.repeat(1 << 20) + hoard.length);
  } catch (e) {
    console.log(`caught: ${e.name}: ${e.message} after ${hoard.length} MiB`);
  }
  hoard.length = 0;
  const again = [];
  for (;;) again.push('y'.repeat(1 << 20) + again.length);
}
