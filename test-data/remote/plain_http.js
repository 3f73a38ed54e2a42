import x from '{{PLAIN}}/lib/v1/index.js';
export default function () {}
