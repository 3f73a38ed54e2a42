// The REST API tests' script (tests/it/cli_rest_api.rs); k6-v1.1/ holds what k6 v1.1.0 answered
// for it (with a 3s duration): the shapes loadgate's answers are compared with.
import { group, check, sleep } from 'k6';
export const options = { vus: 2, duration: '30s', thresholds: { checks: ['rate>0.5'] } };
export function setup() { return { a: 1, b: [2] }; }
export default function () { group('g1', () => { check(1, { 'one': (x) => x === 1 }); }); sleep(0.2); }
export function teardown(d) { console.log('teardown ' + JSON.stringify(d)); }
