import x from '{{MODULES}}/missing.js';
export default function () {}
