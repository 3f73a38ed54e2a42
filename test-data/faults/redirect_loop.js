// A redirect loop: stopped after maxRedirects (k6: "stopped after 10 redirects").
import http from 'k6/http';
export const options = { iterations: 1 };
export default function () {
  const res = http.get(`${__ENV.TARGET}/redirect/1000`);
  console.log(`status=${res.status} error=${res.error}`);
}
