// The externally-controlled executor driven through the REST API (tests/it/cli_rest_api.rs).
import { sleep } from 'k6';
export const options = {
  scenarios: { ec: { executor: 'externally-controlled', vus: 1, maxVUs: 2, duration: __ENV.DUR || '30s' } },
};
export default function () { sleep(0.05); }
