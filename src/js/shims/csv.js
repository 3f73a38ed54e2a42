// k6/experimental/csv as k6 v1.1 has it: parse(file, options) (a Promise of a SharedArray of the
// records, one copy per test) and Parser(file, options) with next() (a Promise of {done, value}).
// Records are read as Go's encoding/csv reads them (quotes, "" escapes, \r\n, empty lines
// skipped, the first record fixing the number of fields), with k6's options: delimiter,
// skipFirstLine, fromLine, toLine, asObjects.
import { SharedArray } from 'k6/data';

const n = globalThis.__k6;

function decode(bytes) {
  return n.csvDecode(bytes);
}

class Records {
  constructor(text, delimiter) {
    this.text = text;
    this.pos = 0;
    this.line = 1;
    this.delimiter = delimiter;
    this.fields = 0;
  }

  // The next record, or null at the end; throws Go's errors.
  read() {
    const t = this.text;
    const d = this.delimiter;
    // Empty lines are skipped.
    for (;;) {
      if (this.pos >= t.length) return null;
      if (t[this.pos] === '\n') { this.pos++; this.line++; continue; }
      if (t[this.pos] === '\r' && t[this.pos + 1] === '\n') { this.pos += 2; this.line++; continue; }
      break;
    }
    const startLine = this.line;
    const record = [];
    for (;;) {
      let field = '';
      if (t[this.pos] === '"') {
        const quoteLine = this.line;
        let col = 0;
        this.pos++;
        for (;;) {
          if (this.pos >= t.length) {
            throw new Error(`parse error on line ${quoteLine}, column ${col + 1}: extraneous or missing " in quoted-field`);
          }
          const c = t[this.pos];
          if (c === '"') {
            if (t[this.pos + 1] === '"') { field += '"'; this.pos += 2; continue; }
            this.pos++;
            const next = t[this.pos];
            if (next === undefined || next === d || next === '\n' || (next === '\r' && t[this.pos + 1] === '\n')) break;
            throw new Error(`parse error on line ${this.line}, column ${col + 2}: extraneous or missing " in quoted-field`);
          }
          if (c === '\r' && t[this.pos + 1] === '\n') { field += '\n'; this.pos += 2; this.line++; continue; }
          if (c === '\n') this.line++;
          field += c;
          this.pos++;
          col++;
        }
      } else {
        const start = this.pos;
        while (this.pos < t.length && t[this.pos] !== d && t[this.pos] !== '\n' && !(t[this.pos] === '\r' && t[this.pos + 1] === '\n')) {
          if (t[this.pos] === '"') {
            throw new Error(`parse error on line ${this.line}, column ${this.pos - start + 1}: bare " in non-quoted-field`);
          }
          this.pos++;
        }
        field = t.slice(start, this.pos);
      }
      record.push(field);
      if (t[this.pos] === d) { this.pos++; continue; }
      if (t[this.pos] === '\r') this.pos += 2;
      else if (t[this.pos] === '\n') this.pos++;
      this.line++;
      break;
    }
    if (this.fields === 0) this.fields = record.length;
    else if (record.length !== this.fields) {
      throw new Error(`record on line ${startLine}: wrong number of fields`);
    }
    return record;
  }
}

function options(o) {
  const opts = { delimiter: ',', skipFirstLine: false, fromLine: null, toLine: null, asObjects: false };
  if (o === undefined || o === null) return opts;
  if (typeof o !== 'object') return opts;
  if (o.delimiter !== undefined) {
    const d = String(o.delimiter);
    if (d.length > 1) throw new Error('delimiter must be a single character');
    opts.delimiter = d;
  }
  if (o.skipFirstLine !== undefined) opts.skipFirstLine = !!o.skipFirstLine;
  const int = (v) => Math.trunc(Number(v)) || 0;
  if (o.fromLine !== undefined) opts.fromLine = int(o.fromLine);
  if (o.toLine !== undefined) opts.toLine = int(o.toLine);
  if (o.asObjects !== undefined) opts.asObjects = !!o.asObjects;
  if (opts.fromLine !== null && opts.toLine !== null && opts.fromLine >= opts.toLine) {
    throw new Error('fromLine must be less than or equal to toLine');
  }
  return opts;
}

function validate(o) {
  if (o.asObjects && o.skipFirstLine) throw new Error("the 'header' option cannot be enabled when 'skipFirstLine' is true");
  if (o.asObjects && o.fromLine !== null && o.fromLine > 0) {
    throw new Error("the 'header' option cannot be enabled when 'fromLine' is set to a value greater than 0");
  }
  if (o.fromLine !== null && o.fromLine < 0) throw new Error(`the 'fromLine' option must be greater than or equal to 0; got ${o.fromLine}`);
  if (o.toLine !== null && o.toLine < 0) throw new Error(`the 'toLine' option must be greater than or equal to 0; got ${o.toLine}`);
}

// k6's csv.Reader: the options applied over the records.
class Reader {
  constructor(bytes, o) {
    validate(o);
    this.records = new Records(decode(bytes), o.delimiter || ',');
    this.o = o;
    this.line = 0;
    this.columns = null;
    const skip = (why) => {
      try {
        if (this.records.read() === null) throw new Error('EOF');
      } catch (e) {
        throw new Error(`${why}; reason: ${e.message}`);
      }
      this.line++;
    };
    if (o.asObjects) {
      try {
        this.columns = this.records.read();
        if (this.columns === null) throw new Error('EOF');
      } catch (e) {
        throw new Error(`failed to read the first line; reason: ${e.message}`);
      }
      this.line++;
    }
    if (o.skipFirstLine && (o.fromLine === null || o.fromLine === 0)) skip('failed to skip the first line');
    if (o.fromLine !== null && o.fromLine > 0) {
      while (this.line < o.fromLine) skip(`failed to skip lines until line ${o.fromLine}`);
    }
  }

  // The next record (an array, or an object with asObjects), or null at the end.
  read() {
    if (this.o.toLine !== null && this.o.toLine > 0 && this.line > this.o.toLine) return null;
    const record = this.records.read();
    if (record === null) return null;
    this.line++;
    if (!this.o.asObjects) return record;
    if (record.length !== this.columns.length) {
      throw new Error(`record length (${record.length}) doesn't match header length (${this.columns.length})`);
    }
    // A Go map in k6 (keys in random order); here in the columns' order.
    const obj = {};
    this.columns.forEach((c, i) => { obj[c] = record[i]; });
    return obj;
  }
}

function fileBytes(file) {
  const bytes = n.fsRemaining ? n.fsRemaining(file) : undefined;
  if (bytes === undefined) {
    throw new Error(`first argument expected to be a fs.File instance, got ${goType(file)} instead`);
  }
  return bytes;
}

let parsed = 0;

// What k6 rejects with: a Go error (no name or message, its text as String()).
function goError(e) {
  const text = e && e.message !== undefined ? e.message : String(e);
  const err = {};
  Object.defineProperty(err, 'toString', { value: () => text });
  return err;
}

// What k6 throws: a GoError.
function thrown(message) {
  const e = new Error(message);
  e.name = 'GoError';
  return e;
}

// The Go type k6 names for a value that is not a File.
function goType(v) {
  switch (typeof v) {
    case 'string': return /^[\x00-\x7f]*$/.test(v) ? 'sobek.asciiString' : 'sobek.unicodeString';
    case 'number': return Number.isInteger(v) ? 'sobek.valueInt' : 'sobek.valueFloat';
    case 'boolean': return 'sobek.valueBool';
    case 'undefined': return 'sobek.valueUndefined';
    default: return v === null ? 'sobek.valueNull' : '*sobek.Object';
  }
}

export function parse(file, opts) {
  try {
    let o;
    try {
      o = options(opts);
    } catch (e) {
      throw new Error(`failed to interpret the provided Parser options; reason: ${e.message}`);
    }
    const bytes = fileBytes(file);
    let reader;
    try {
      reader = new Reader(bytes, o);
    } catch (e) {
      throw new Error(`failed to create a new parser; reason: ${e.message}`);
    }
    // One copy per test: every VU parses the same file with the same options into one array.
    const name = `csv.parse.${file.path}.${JSON.stringify(o)}.${parsed++}`;
    return Promise.resolve(new SharedArray(name, () => {
      const all = [];
      for (let r = reader.read(); r !== null; r = reader.read()) all.push(r);
      return all;
    }));
  } catch (e) {
    return Promise.reject(goError(e));
  }
}

export class Parser {
  constructor(file, opts) {
    if (!n.csvInInit()) throw thrown('csv Parser constructor must be called in the init context');
    if (file === undefined || file === null) {
      throw thrown('csv Parser constructor takes at least one non-nil source argument');
    }
    let o;
    try {
      o = options(opts);
    } catch (e) {
      throw thrown(`encountered an error while interpreting Parser options; reason: ${e.message}`);
    }
    let bytes;
    try {
      bytes = fileBytes(file);
    } catch (e) {
      throw thrown(e.message);
    }
    let reader;
    try {
      reader = new Reader(bytes, o);
    } catch (e) {
      throw thrown(`failed to create a new parser; reason: ${e.message}`);
    }
    this.next = () => {
      try {
        const r = reader.read();
        return Promise.resolve(r === null ? { done: true, value: [] } : { done: false, value: r });
      } catch (e) {
        return Promise.reject(goError(e));
      }
    };
  }
}

export default { parse, Parser };
