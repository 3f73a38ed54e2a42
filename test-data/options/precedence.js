// Which layer won: prints the consolidated vus/iterations and rps as k6 shows them in
// exec.test.options. Used by tests/it/cli_options.rs.
import exec from 'k6/execution';

export const options = { vus: 1, rps: 9 };

export default function () {
  if (exec.scenario.iterationInTest === 0) {
    const d = exec.test.options.scenarios.default;
    console.log(`layers vus=${d.vus} iterations=${d.iterations} rps=${exec.test.options.rps}`);
  }
}
