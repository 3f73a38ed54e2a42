// exact: iterations checks http_reqs{mark:set} iterations{mark:set}
// k6 exit: 0
// exec.vu.tags shows every tag of the VU's context (test tags, scenario tags, `scenario`, `group`,
// empty at the root) and what the script sets, which then tags its samples; invalid values throw
// a TypeError; exec.vu.metrics.tags is the same view; exec.vu.metrics.metadata keeps what is
// written (across accesses and iterations) and is not a tag.
import exec from 'k6/execution';
import http from 'k6/http';
import { check, group } from 'k6';

export const options = {
  tags: { team: 'qa' },
  scenarios: {
    s: { executor: 'per-vu-iterations', vus: 1, iterations: 3, tags: { kind: 'smoke' } },
  },
  thresholds: { checks: ['rate==1'], 'iterations{mark:set}': ['count==3'], 'http_reqs{mark:set}': ['count==3'] },
};

function error(fn) {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

export default function () {
  const first = exec.vu.iterationInInstance === 0;
  const tags = exec.vu.tags;
  check(tags, {
    'scenario tag': (t) => t.scenario === 's',
    'group tag at the root': (t) => t.group === '',
    'test and scenario tags': (t) => t.team === 'qa' && t.kind === 'smoke',
    'keys include scenario and group': (t) => ['scenario', 'group', 'team', 'kind'].every((k) => Object.keys(t).includes(k)),
    'in operator': (t) => 'scenario' in t && !('nope' in t),
    'metrics.tags is the same view': () => exec.vu.metrics.tags.scenario === 's',
    'set tag persists': (t) => first || t.mark === 'set',
  });
  group('g', () => {
    check(exec.vu.tags, { 'group tag inside a group': (t) => t.group === '::g' });
    group('inner', () => {
      check(exec.vu.tags, { 'nested group tag': (t) => t.group === '::g::inner' });
    });
  });
  check(null, {
    'object tag value throws TypeError': () => error(() => { exec.vu.tags.bad = { a: 1 }; }).startsWith('TypeError: invalid value for metric tag'),
    'number tag value becomes a string': () => { exec.vu.tags.num = 1.5; return exec.vu.tags.num === '1.5'; },
  });
  delete exec.vu.tags.num;
  check(null, { 'deleted tag is gone': () => exec.vu.tags.num === undefined });
  const meta = exec.vu.metrics.metadata;
  if (first) meta.trace_id = 'abc';
  check(exec.vu.metrics.metadata, {
    'metadata persists': (m) => m.trace_id === 'abc' && JSON.stringify(m) === '{"trace_id":"abc"}',
    'metadata is not a tag': () => exec.vu.tags.trace_id === undefined,
    'object metadata throws TypeError': () => error(() => { exec.vu.metrics.metadata.o = []; }).startsWith('TypeError: invalid value for metric metadata'),
  });
  exec.vu.tags.mark = 'set';
  http.get(`${__ENV.TARGET}/`);
}
