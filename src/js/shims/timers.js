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
    const delay = Math.max(0, Number(ms) || 0);
    const id = next++;
    timers.set(id, { fn, args, delay, due: Date.now() + delay, repeat });
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
    for (const [id, t] of [...timers]) {
      if (t.due > now || !timers.has(id)) continue;
      if (t.repeat) t.due = now + Math.max(1, t.delay); else timers.delete(id);
      t.fn(...t.args);
    }
  };
  globalThis.__lgTimerClear = () => timers.clear();
})();
