// Log forgery: a script's console.log and an error text carrying a newline and a fake log line.
// Each must stay one quoted line of the log, never a second, forged line.
export const options = { iterations: 1 };
export default function () {
  console.log('hello\ntime="2026-01-01T00:00:00Z" level=error msg="forged by console"');
  throw new Error('bad\r\nlevel=error msg="forged by an error"');
}
