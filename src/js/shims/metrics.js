// k6/metrics: Counter, Gauge, Rate, Trend.
const n = globalThis.__k6;

function make(type) {
  return class {
    constructor(name, isTime) {
      Object.defineProperty(this, 'name', { value: String(name), enumerable: true });
      Object.defineProperty(this, '__id', { value: n.metricNew(String(name), type, !!isTime) });
    }
    add(value, tags) {
      return n.metricAdd(this.__id, value, tags);
    }
  };
}

export const Counter = make('counter');
export const Gauge = make('gauge');
export const Rate = make('rate');
export const Trend = make('trend');
export default { Counter, Gauge, Rate, Trend };
