// A response body of 20,000 nested arrays, read with a selector and parsed whole: a JS error or
// a value, never a native stack overflow (it was a SIGSEGV of the whole process).
import http from 'k6/http';
export const options = { iterations: 1 };
export default function () {
  const res = http.get(__ENV.TARGET);
  let selected;
  try { selected = res.json('0'); } catch (e) { console.log(`selector: ${e}`); }
  console.log(`selected: ${selected === undefined ? 'undefined' : typeof selected}`);
  try { res.json(); console.log('parsed'); } catch (e) { console.log(`parse: ${e}`); }
}
