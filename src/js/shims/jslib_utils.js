// jslib k6-utils (https://jslib.k6.io/k6-utils/<version>/index.js), built in so scripts run
// offline: the helpers scripts use most.

export function randomIntBetween(min, max) {
  return Math.floor(Math.random() * (max - min + 1) + min);
}

export function randomItem(items) {
  return items[Math.floor(Math.random() * items.length)];
}

export function randomString(length, charset) {
  const chars = charset || 'abcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let i = 0; i < length; i++) out += chars.charAt(Math.floor(Math.random() * chars.length));
  return out;
}

export function uuidv4(secure) {
  const hex = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) s += '-';
    else if (i === 14) s += '4';
    else if (i === 19) s += hex[(Math.random() * 4) | 8];
    else s += hex[(Math.random() * 16) | 0];
  }
  return s;
}

export function findBetween(content, left, right, repeat) {
  const out = [];
  let from = 0;
  for (;;) {
    const start = content.indexOf(left, from);
    if (start === -1) break;
    const end = content.indexOf(right, start + left.length);
    if (end === -1) break;
    const found = content.substring(start + left.length, end);
    if (!repeat) return found;
    out.push(found);
    from = end + right.length;
  }
  return repeat ? out : null;
}

export function normalDistributionStages(maxVUs, durationSeconds, numberOfStages) {
  const n = numberOfStages || 10;
  const stages = [];
  const step = durationSeconds / n;
  for (let i = 1; i <= n; i++) {
    const x = (i / n) * 6 - 3;
    stages.push({ duration: `${Math.round(step)}s`, target: Math.round(maxVUs * Math.exp(-(x * x) / 2)) });
  }
  return stages;
}

export default { randomIntBetween, randomItem, randomString, uuidv4, findBetween, normalDistributionStages };
