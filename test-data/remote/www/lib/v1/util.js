import { depth } from '../deep/depth.js';

export function helper(who) {
  return `hello ${who}${depth}`;
}
