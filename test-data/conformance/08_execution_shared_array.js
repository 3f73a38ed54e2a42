// exact: iterations checks iter_in_test
// k6 exit: 0
// k6/execution (vu, scenario, instance, test.options) and k6/data SharedArray from a fixture.
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { Trend } from 'k6/metrics';
import { check } from 'k6';

const users = new SharedArray('users', function () {
  return JSON.parse(open('./fixtures/users.json'));
});
const iterInTest = new Trend('iter_in_test');

export const options = {
  scenarios: { s: { executor: 'shared-iterations', vus: 3, iterations: 12, maxDuration: '10s' } },
  thresholds: { checks: ['rate==1'], iter_in_test: ['min==0', 'max==11'] },
};

export default function () {
  iterInTest.add(exec.scenario.iterationInTest);
  const user = users[exec.scenario.iterationInTest % users.length];
  check(user, {
    'shared array length': () => users.length === 3,
    'shared array element': (u) => typeof u.name === 'string' && typeof u.id === 'number',
    'shared array is frozen': (u) => Object.isFrozen(u),
    'vu ids': () => exec.vu.idInInstance === __VU && exec.vu.idInTest === __VU && __VU >= 1 && __VU <= 3,
    'vu iterations': () => exec.vu.iterationInInstance === __ITER && exec.vu.iterationInScenario === __ITER,
    'scenario name and executor': () => exec.scenario.name === 's' && exec.scenario.executor === 'shared-iterations',
    'scenario start and progress': () => exec.scenario.startTime > 1600000000000 && exec.scenario.progress >= 0 && exec.scenario.progress <= 1,
    'scenario iteration': () => exec.scenario.iterationInInstance === exec.scenario.iterationInTest,
    'instance': () => exec.instance.vusInitialized === 3 && exec.instance.vusActive >= 1 && exec.instance.vusActive <= 3
      && exec.instance.iterationsCompleted >= 0 && exec.instance.currentTestRunDuration >= 0,
    'test options': () => exec.test.options.scenarios.s.executor === 'shared-iterations',
  });
}
