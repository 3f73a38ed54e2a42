// k6 exit: 104
// An unknown TLS version is an invalid configuration (exit 104, k6's "unknown TLS version").
export const options = { iterations: 1, tlsVersion: { min: 'tls1.2', max: 'tls1.9' } };
export default function () {}
