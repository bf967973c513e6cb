// Reads a log relay's output on stdin and checks the numbered lines the log bench's container printed
// ("bench-log 0000042 xxx..."): how many arrived, lost, repeated or out of order, and when the first and
// the last arrived. A separate process, so that neither the reader nor the API server pays for the check.
// Prints one JSON object at the end. Usage: node count-lines.js EXPECTED
const expected = Number(process.argv[2]);
const seen = new Uint8Array(expected + 1);
const MARK = Buffer.from("bench-log ");
const t0 = process.hrtime.bigint();
const since = () => Number(process.hrtime.bigint() - t0) / 1e6;

let bytes = 0;
let lines = 0;
let numbered = 0;
let distinct = 0;
let repeated = 0;
let outOfOrder = 0;
let unexpected = 0;
let last = 0;
let firstMs: number | undefined;
let lastMs: number | undefined;
/** Wall clock at the last line: to compare with the runtime's timestamp of the line. */
let lastWall: number | undefined;
let rest: Buffer = Buffer.alloc(0);

/** The number after the mark in one line, or -1. */
function numberIn(buf: Buffer, start: number, end: number): number {
  const at = buf.indexOf(MARK, start);
  if (at < 0 || at >= end) return -1;
  let n = 0;
  let i = at + MARK.length;
  for (; i < end && buf[i] >= 0x30 && buf[i] <= 0x39; i++) n = n * 10 + buf[i] - 0x30;
  return i > at + MARK.length ? n : -1;
}

function line(buf: Buffer, start: number, end: number): void {
  lines++;
  const n = numberIn(buf, start, end);
  if (n < 0) return;
  numbered++;
  if (n < 1 || n > expected) {
    unexpected++;
    return;
  }
  if (seen[n]) repeated++;
  else {
    seen[n] = 1;
    distinct++;
  }
  if (n <= last) outOfOrder++;
  last = n;
  firstMs ??= since();
  lastMs = since();
  lastWall = Date.now();
}

process.stdin.on("data", (chunk: Buffer) => {
  bytes += chunk.length;
  const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    line(buf, start, nl);
    start = nl + 1;
  }
  rest = Buffer.from(buf.subarray(start));
});

process.stdin.on("end", () => {
  if (rest.length) line(rest, 0, rest.length);
  const windowMs = firstMs !== undefined && lastMs !== undefined ? lastMs - firstMs : 0;
  process.stdout.write(JSON.stringify({ bytes, lines, numbered, distinct, lost: expected - distinct, repeated, outOfOrder, unexpected, firstMs, lastMs, windowMs, endMs: since(), lastWall }) + "\n");
});
