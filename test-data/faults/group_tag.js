// A 1.2 MB `group` tag of 200,000 levels given to check(): the group tree is walked without
// recursion (it overflowed the control thread's stack).
import { check } from 'k6';
export const options = { iterations: 1 };
export default function () {
  check(1, { ok: () => true }, { group: '::a'.repeat(200000) });
}
