// Unbounded recursion in user code: a RangeError in the iteration, not a dead process.
export const options = { iterations: 2 };
function down(n) { return down(n + 1) + 1; }
export default function () {
  try { down(0); } catch (e) { console.log(`caught: ${e.name}: ${e.message}`); }
  down(0);
}
