import { fine } from '{{MODULES}}/syntax_error.js';
export default function () { fine(); }
