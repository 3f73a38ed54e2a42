// exact: iterations my_counter my_gauge my_rate my_trend my_time checks my_counter{kind:even} my_trend{parity:odd}
// k6 exit: 0
// k6/metrics Counter/Gauge/Rate/Trend (isTime), add() with tags, check() with tags, sub-metric thresholds.
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
import { check } from 'k6';

const myCounter = new Counter('my_counter');
const myGauge = new Gauge('my_gauge');
const myRate = new Rate('my_rate');
const myTrend = new Trend('my_trend');
const myTime = new Trend('my_time', true);

export const options = {
  scenarios: { perVu: { executor: 'per-vu-iterations', vus: 4, iterations: 5 } },
  thresholds: {
    my_counter: ['count==40'],
    'my_counter{kind:even}': ['count==24'],
    my_gauge: ['value==7'],
    my_rate: ['rate==0.6'],
    my_trend: ['min==0', 'max==8', 'avg==4', 'med==4', 'p(90)==8'],
    'my_trend{parity:odd}': ['min==2', 'max==6'],
    my_time: ['avg==150', 'p(95)<=200'],
    'checks{mytag:a}': ['rate==1'],
  },
};

export default function () {
  myCounter.add(2, { kind: __ITER % 2 === 0 ? 'even' : 'odd' });
  myGauge.add(3);
  myGauge.add(7);
  myRate.add(__ITER < 3);
  myTrend.add(__ITER * 2, { parity: __ITER % 2 === 1 ? 'odd' : 'even' });
  myTime.add(100 + __ITER * 25);
  check(myCounter, { 'metric name': (m) => m.name === 'my_counter' }, { mytag: 'a' });
}
