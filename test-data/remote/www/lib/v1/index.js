// A remote library: a relative import, an import from the host's root and a built-in module.
import { helper } from './util.js';
import { suffix } from '/shared/suffix.js';
import { sleep } from 'k6';

export const name = 'remote-lib';
export function greet(who) {
  sleep(0);
  return `${helper(who)}${suffix}`;
}
export default { greet, name };
