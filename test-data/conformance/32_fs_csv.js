// exact: iterations checks
// k6 exit: 0
// k6/experimental/fs (open, File.read/seek/stat, SeekMode, its error objects) and
// k6/experimental/csv (parse into a SharedArray with delimiter, skipFirstLine, fromLine/toLine,
// asObjects; Parser.next; option and file errors) in the init context with top-level await. Each
// check compares a value's JSON with what k6 1.1 gives (paths shown relative to the script's
// folder). Not here: a malformed record in csv.parse, where k6 1.1 crashes (a Go panic); the
// Parser rejects it, which is tested.
import { open, SeekMode } from 'k6/experimental/fs';
import csv from 'k6/experimental/csv';
import { check } from 'k6';

const FOLDER = (await open('./fixtures/bytes.bin')).path.replace(/\/fixtures\/bytes\.bin$/, '');

const out = {};
const here = (s) => (typeof s === 'string' ? s.split(FOLDER).join('<folder>') : s);
const rec = async (k, f) => { try { out[k] = await f(); } catch (e) { out[k] = { err: e && e.name, msg: here(e && e.message), s: here(String(e)), isErr: e instanceof Error }; } };

const bin = await open('./fixtures/bytes.bin');
await rec('stat', () => bin.stat());
await rec('path', () => bin.path.endsWith('/fixtures/bytes.bin'));
const buf = new Uint8Array(4);
await rec('read1', async () => [await bin.read(buf), Array.from(buf)]);
await rec('seekEnd', () => bin.seek(-1, SeekMode.End));
await rec('seekCur', () => bin.seek(-2, SeekMode.Current));
await rec('read2', async () => [await bin.read(buf), Array.from(buf)]);
await rec('readEof', async () => { await bin.seek(0, SeekMode.End); return await bin.read(buf); });
await rec('seekStart', () => bin.seek(2, SeekMode.Start));
await rec('seekNeg', () => bin.seek(-1, SeekMode.Start));
await rec('seekPos', () => bin.seek(1, SeekMode.End));
await rec('seekFar', () => bin.seek(1000, SeekMode.Start));
await rec('seekBad', () => bin.seek(0, 7));
await rec('seekStr', () => bin.seek('1', SeekMode.Start));
await rec('readNull', () => bin.read(null));
await rec('readArr', () => bin.read([1, 2]));
await rec('missing', () => open('./fixtures/nope.txt'));
await rec('dir', () => open('./fixtures'));
await rec('empty', () => open(''));
await rec('seekMode', () => SeekMode);

const people = await open('./fixtures/people.csv');
await rec('parse', async () => { const a = await csv.parse(people); return [a.length, a[0], a[2], a[3]]; });
const p2 = await open('./fixtures/people.csv');
await rec('parseObjects', async () => { const a = await csv.parse(p2, { asObjects: true }); return [a.length, a[0], a[3]]; });
const p3 = await open('./fixtures/people.csv');
await rec('parseSkip', async () => { const a = await csv.parse(p3, { skipFirstLine: true }); return [a.length, a[0]]; });
const p4 = await open('./fixtures/people.csv');
await rec('parseFromTo', async () => { const a = await csv.parse(p4, { fromLine: 1, toLine: 2 }); return Array.from(a); });
const semi = await open('./fixtures/semicolon.csv');
await rec('semicolon', async () => Array.from(await csv.parse(semi, { delimiter: ';' })));
const ragged = await open('./fixtures/ragged.csv');
const bare = await open('./fixtures/bare_quote.csv');
const p5 = await open('./fixtures/people.csv');
await rec('badOpts', () => csv.parse(p5, { asObjects: true, skipFirstLine: true }));
await rec('badDelim', async () => csv.parse(await open('./fixtures/people.csv'), { delimiter: ';;' }));
await rec('notFile', () => csv.parse('x'));
await rec('fromGeTo', async () => csv.parse(await open('./fixtures/people.csv'), { fromLine: 3, toLine: 2 }));
const pf = await open('./fixtures/people.csv');
const parser = new csv.Parser(pf, { skipFirstLine: true });
await rec('parser', async () => { const r = []; for (let i = 0; i < 6; i++) r.push(await parser.next()); return r; });
await rec('parserNoArg', () => new csv.Parser());
const pr = await open('./fixtures/ragged.csv');
const rp = new csv.Parser(pr);
await rec('parserRagged', async () => [await rp.next(), await rp.next().catch((e) => String(e))]);

const expected = {
  "stat": {
  "name": "bytes.bin",
  "size": 8
  },
  "path": true,
  "read1": [
  4,
  [
  0,
  1,
  2,
  3
  ]
  ],
  "seekEnd": 6,
  "seekCur": 4,
  "read2": [
  4,
  [
  127,
  128,
  254,
  255
  ]
  ],
  "readEof": 1,
  "seekStart": 2,
  "seekNeg": {
  "err": "TypeError",
  "msg": "offset cannot be negative when using SeekModeStart",
  "s": "TypeError: offset cannot be negative when using SeekModeStart",
  "isErr": false
  },
  "seekPos": {
  "err": "TypeError",
  "msg": "offset cannot be positive when using SeekModeEnd",
  "s": "TypeError: offset cannot be positive when using SeekModeEnd",
  "isErr": false
  },
  "seekFar": {
  "err": "TypeError",
  "msg": "seeking beyond end of file",
  "s": "TypeError: seeking beyond end of file",
  "isErr": false
  },
  "seekBad": {
  "err": "TypeError",
  "msg": "seek() failed; reason: the whence argument must be a SeekMode",
  "s": "TypeError: seek() failed; reason: the whence argument must be a SeekMode",
  "isErr": false
  },
  "seekStr": {
  "err": "TypeError",
  "msg": "seek() failed; reason: the offset argument must be a number",
  "s": "TypeError: seek() failed; reason: the offset argument must be a number",
  "isErr": false
  },
  "readNull": {
  "err": "TypeError",
  "msg": "read() failed; reason: into argument cannot be null or undefined",
  "s": "TypeError: read() failed; reason: into argument cannot be null or undefined",
  "isErr": false
  },
  "readArr": {
  "err": "TypeError",
  "msg": "read() failed; reason: into argument must be a Uint8Array",
  "s": "TypeError: read() failed; reason: into argument must be a Uint8Array",
  "isErr": false
  },
  "missing": {
  "err": "NotFoundError",
  "msg": "no such file or directory \"<folder>/fixtures/nope.txt\"",
  "s": "NotFoundError: no such file or directory \"<folder>/fixtures/nope.txt\"",
  "isErr": false
  },
  "dir": {
  "err": "InvalidResourceError",
  "msg": "cannot open \"<folder>/fixtures\": opening a directory is not supported",
  "s": "InvalidResourceError: cannot open \"<folder>/fixtures\": opening a directory is not supported",
  "isErr": false
  },
  "empty": {
  "err": "TypeError",
  "msg": "open() failed; reason: path cannot be empty",
  "s": "TypeError: open() failed; reason: path cannot be empty",
  "isErr": false
  },
  "seekMode": {
  "Current": 1,
  "End": 2,
  "Start": 0
  },
  "parse": [
  5,
  [
  "name",
  "age",
  "city"
  ],
  [
  "bob",
  "25",
  "say \"hi\""
  ],
  [
  "carol",
  "41",
  "multi\nline"
  ]
  ],
  "parseObjects": [
  4,
  {
  "age": "30",
  "city": "Paris, FR",
  "name": "alice"
  },
  {
  "age": "52",
  "city": "Oslo",
  "name": "dave"
  }
  ],
  "parseSkip": [
  4,
  [
  "alice",
  "30",
  "Paris, FR"
  ]
  ],
  "parseFromTo": [
  [
  "alice",
  "30",
  "Paris, FR"
  ],
  [
  "bob",
  "25",
  "say \"hi\""
  ]
  ],
  "semicolon": [
  [
  "a",
  "b"
  ],
  [
  "1",
  "2"
  ],
  [
  "3",
  "4"
  ]
  ],
  "badOpts": {
  "s": "failed to create a new parser; reason: the 'header' option cannot be enabled when 'skipFirstLine' is true",
  "isErr": false
  },
  "badDelim": {
  "s": "failed to interpret the provided Parser options; reason: delimiter must be a single character",
  "isErr": false
  },
  "notFile": {
  "s": "first argument expected to be a fs.File instance, got sobek.asciiString instead",
  "isErr": false
  },
  "fromGeTo": {
  "s": "failed to interpret the provided Parser options; reason: fromLine must be less than or equal to toLine",
  "isErr": false
  },
  "parser": [
  {
  "done": false,
  "value": [
  "alice",
  "30",
  "Paris, FR"
  ]
  },
  {
  "done": false,
  "value": [
  "bob",
  "25",
  "say \"hi\""
  ]
  },
  {
  "done": false,
  "value": [
  "carol",
  "41",
  "multi\nline"
  ]
  },
  {
  "done": false,
  "value": [
  "dave",
  "52",
  "Oslo"
  ]
  },
  {
  "done": true,
  "value": []
  },
  {
  "done": true,
  "value": []
  }
  ],
  "parserNoArg": {
  "err": "GoError",
  "msg": "csv Parser constructor takes at least one non-nil source argument",
  "s": "GoError: csv Parser constructor takes at least one non-nil source argument",
  "isErr": true
  },
  "parserRagged": [
  {
  "done": false,
  "value": [
  "a",
  "b"
  ]
  },
  "record on line 2: wrong number of fields"
  ]
  };

export const options = { vus: 2, iterations: 4, thresholds: { checks: ['rate==1'] } };

// JSON with sorted keys: k6 builds SeekMode and asObjects records from Go maps, whose key order
// is random.
const canonical = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]]))
  : x));

export default function () {
  const checks = {};
  for (const [k, v] of Object.entries(expected)) {
    checks[k] = () => canonical(out[k]) === canonical(v);
  }
  const ok = check(null, checks);
  if (!ok) {
    for (const k of Object.keys(expected)) {
      if (canonical(out[k]) !== canonical(expected[k])) console.warn(k, canonical(out[k]));
    }
  }
}
