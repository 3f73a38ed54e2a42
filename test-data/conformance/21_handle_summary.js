// exact: iterations http_reqs checks
// writes: handle_summary.out.json
// stdout: handleSummary: {"iterations":3,"checks":3,"setup":"setup","threshold_ok":true}
// k6 exit: 0
// handleSummary(data) replaces the summary: it writes to stdout and to a file next to the script.
import http from 'k6/http';
import { check } from 'k6';
import { url } from './lib/helpers.js';

export const options = { vus: 1, iterations: 3, thresholds: { checks: ['rate==1'] } };

export function setup() {
  return { from: 'setup' };
}

export default function () {
  check(http.get(url('/json')), { 'json ok': (r) => r.status === 200 });
}

export function handleSummary(data) {
  const brief = {
    iterations: data.metrics.iterations.values.count,
    checks: data.metrics.checks.values.passes,
    setup: data.setup_data.from,
    threshold_ok: data.metrics.checks.thresholds['rate==1'].ok,
  };
  return {
    stdout: `handleSummary: ${JSON.stringify(brief)}\n`,
    'handle_summary.out.json': JSON.stringify(brief),
  };
}
