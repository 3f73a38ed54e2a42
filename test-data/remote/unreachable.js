import x from '{{UNREACHABLE}}/lib.js';
export default function () {}
