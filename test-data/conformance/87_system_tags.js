// exact: checks http_reqs http_reqs{status:200} http_reqs{env:ci} http_reqs{method:GET}
// k6 exit: 0
// `systemTags` keeps only the listed system tags (here status and method): sub-metrics on url,
// name, group or check tags see nothing; `tags` adds test-wide tags to every sample.
import http from 'k6/http';
import { check, group } from 'k6';

const T = __ENV.TARGET;

export const options = {
  iterations: 2,
  systemTags: ['status', 'method', 'check'],
  tags: { env: 'ci' },
  thresholds: {
    checks: ['rate==1'],
    'http_reqs{status:200}': ['count==4'],
    'http_reqs{env:ci}': ['count==4'],
    'http_reqs{method:GET}': ['count==4'],
    'http_reqs{group:::g}': ['count==0'],
    [`http_reqs{url:${T}/}`]: ['count==0'],
    'checks{scenario:default}': ['rate==0'],
  },
};

export default function () {
  group('g', () => {
    check(http.get(`${T}/`), { 'got 200': (r) => r.status === 200 });
  });
  http.get(`${T}/json`);
}
