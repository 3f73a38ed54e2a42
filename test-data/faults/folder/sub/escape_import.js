// Imports from above the test folder are refused.
import x from '../../../x.js';
export default function () { x(); }
