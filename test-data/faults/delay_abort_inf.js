// delayAbortEval that is no Go duration: an invalid threshold (k6: exit code 104), not a panic.
export const options = {
  iterations: 1,
  thresholds: { iterations: [{ threshold: 'count>0', abortOnFail: true, delayAbortEval: 'inf' }] },
};
export default function () {}
