// k6 exit: 104
// `hosts` of the wrong type is an invalid configuration (exit 104, no request sent).
export const options = { iterations: 1, hosts: 5 };
export default function () {}
