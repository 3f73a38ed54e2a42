// k6 exit: 107
// An exception thrown in the init context is a script error: exit code 107.
import http from 'k6/http';

export const options = { iterations: 1 };

const config = JSON.parse('{"broken": ');

export default function () {
  http.get(`${__ENV.TARGET}/${config.broken}`);
}
