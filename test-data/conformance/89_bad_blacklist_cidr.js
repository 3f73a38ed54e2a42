// k6 exit: 104
// A malformed CIDR in `blacklistIPs` is an invalid configuration (exit 104).
export const options = { iterations: 1, blacklistIPs: ['10.0.0.0/33'] };
export default function () {}
