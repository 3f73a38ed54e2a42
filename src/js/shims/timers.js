// Timers (k6 v1's global setTimeout/setInterval, also `k6/timers`), installed on first use (the
// globals start as getters that install this; a VU that never uses timers does not pay for them).
// Callbacks are kept here, in
// JS; the VU's event loop (js::event_loop) asks for the next due time, sleeps the VU until then
// (a suspension like sleep()), and runs what is due, until the iteration's Promise settles and no
// timer is left.
(() => {
  const timers = new Map();
  let next = 1;
  const add = (fn, ms, args, repeat) => {
    if (typeof fn !== 'function') throw new TypeError('timer callback must be a function');
    // k6 makes the delay a Go duration: NaN and out-of-range values (1e30) become Go's MinInt64,
    // so they fire at once, before timers with a small negative or zero delay, as in k6.
    let delay = ms === undefined ? 0 : Number(ms);
    if (!(Math.abs(delay * 1e6) < 9223372036854775807)) delay = -9223372036854.775;
    const id = next++;
    timers.set(id, { fn, args, delay: Math.max(0, delay), due: Date.now() + delay, repeat });
    return id;
  };
  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  define('setTimeout', (fn, ms, ...args) => add(fn, ms, args, false));
  define('setInterval', (fn, ms, ...args) => add(fn, ms, args, true));
  define('clearTimeout', (id) => { timers.delete(id); });
  define('clearInterval', (id) => { timers.delete(id); });
  // Milliseconds until the earliest timer is due, or -1 when there is none.
  globalThis.__lgTimerWait = () => {
    let due = Infinity;
    for (const t of timers.values()) due = Math.min(due, t.due);
    return due === Infinity ? -1 : Math.max(0, due - Date.now());
  };
  // Runs every timer that is due.
  globalThis.__lgTimerFire = () => {
    const now = Date.now();
    const due = [...timers].filter(([, t]) => t.due <= now).sort((a, b) => a[1].due - b[1].due);
    for (const [id, t] of due) {
      if (!timers.has(id)) continue;
      if (t.repeat) t.due = now + Math.max(1, t.delay); else timers.delete(id);
      t.fn(...t.args);
    }
  };
  globalThis.__lgTimerClear = () => timers.clear();
})();
