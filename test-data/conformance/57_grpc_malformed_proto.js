// k6 exit: 107
// A malformed .proto file fails client.load in the init context: the test does not start.
import grpc from 'k6/net/grpc';

const client = new grpc.Client();
client.load(['fixtures/grpc'], 'malformed.proto');

export default function () {
  client.connect(__ENV.TARGET.replace(/^http:\/\//, ''), { plaintext: true });
}
