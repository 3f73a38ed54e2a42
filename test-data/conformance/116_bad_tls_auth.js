// k6 exit: 104
// A `tlsAuth` key that does not belong to its certificate is an invalid configuration: exit 104
// before any request, with Go's "tls: private key does not match public key".
export const options = {
  iterations: 1,
  tlsAuth: [{ cert: open('./fixtures/mtls/client.pem'), key: open('./fixtures/mtls/stranger-key.pem') }],
};
export default function () {}
