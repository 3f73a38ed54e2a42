// k6 exit: 104
// An unknown TLS version is an invalid configuration in k6 (exit 104); loadgate refuses
// `tlsVersion` altogether with the same exit code, naming the option.
export const options = { iterations: 1, tlsVersion: { min: 'tls1.2', max: 'tls1.9' } };
export default function () {}
