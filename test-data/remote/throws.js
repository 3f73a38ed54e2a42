import { value } from '{{MODULES}}/throws.js';
export default function () { return value; }
