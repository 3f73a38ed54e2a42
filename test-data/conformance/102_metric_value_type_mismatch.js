// k6 exit: 107
// A custom metric declared again with the same type but another value type (a time Trend, then a
// plain one) is an init error in k6: "metric 'same_t' already exists but with a value type time,
// instead of default" (loadgate used to accept it silently and exit 0).
import { Trend } from 'k6/metrics';

const a = new Trend('same_t', true);
const b = new Trend('same_t');

export const options = { iterations: 1 };

export default function () {
  a.add(1);
  b.add(1);
}
