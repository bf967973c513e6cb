// Container log lines, exactly once and in order, across log streams that end early or drop.
// Streams are read with timestamps=true; a resumed stream starts at sinceTime, which the API truncates to
// whole seconds, so the overlap is skipped by timestamp and by how many lines were already seen at the
// last timestamp. Only complete lines are delivered; a line cut mid-way is read again on resume.

export interface LogLine {
  /** RFC3339 timestamp the runtime gave the line. */
  time: string;
  text: string;
}

/** [seconds since epoch, nanoseconds]: comparable whatever number of fraction digits the server printed. */
type Stamp = [number, number];

/** The fixed part of an RFC3339 timestamp: d is a digit. */
const SHAPE = "dddd-dd-ddTdd:dd:dd";
const TENS = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * Parses s[start, ...) as YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM) followed by a space before `end`, by
 * hand and in place: no regular expression and no string per line, as the cursor does this for every line
 * of logs that run to millions. Returns the space's index, or -1. Reading past the line is harmless: a
 * newline or CR matches no part of a stamp, and past the string charCodeAt is NaN, which matches nothing.
 */
class StampParser {
  sec = 0;
  ns = 0;
  /** The last second parsed (its fixed part, zone and value): Date.parse runs once a second. */
  private prefix = "";
  private zone = "";
  private seconds = 0;
  /** Where the last call found a stamp, else -1. */
  private okAt = -1;

  /** `prev`: where the line before this one starts in s, if it does. */
  parse(s: string, start: number, end: number, prev = -1): number {
    // Most lines are in the same second as the line before, whose fixed part was checked then. When that
    // line starts at `prev` and had a stamp, lastIndexOf finds `prefix` at the latest there, one line back;
    // it is the cheaper call (startsWith with a string that is not a constant is a generic builtin):
    // 1M lines, 0.14 s of CPU -> 0.09 s.
    const sameSecond = prev >= 0 && prev === this.okAt ? s.lastIndexOf(this.prefix, start) === start
      : this.prefix !== "" && s.startsWith(this.prefix, start);
    this.okAt = -1;
    let i = start + 19;
    let ns = 0;
    if (s.charCodeAt(i) === 0x2e) {
      const digits = i + 1;
      for (i = digits; i < digits + 9 && isDigit(s.charCodeAt(i)); i++) ns = ns * 10 + s.charCodeAt(i) - 0x30;
      if (i === digits) return -1;
      ns *= TENS[digits + 9 - i];
    }
    const z = s.charCodeAt(i);
    const space = z === 0x5a ? i + 1
      : (z === 0x2b || z === 0x2d) && isDigit(s.charCodeAt(i + 1)) && isDigit(s.charCodeAt(i + 2)) && s.charCodeAt(i + 3) === 0x3a && isDigit(s.charCodeAt(i + 4)) && isDigit(s.charCodeAt(i + 5)) ? i + 6
      : -1;
    if (space < 0 || space >= end || s.charCodeAt(space) !== 0x20) return -1;
    // A zone is Z or six chars: only the latter need comparing.
    if (!(sameSecond && space - i === this.zone.length && (z === 0x5a || s.startsWith(this.zone, i))) && !this.newSecond(s, start, i, space)) return -1;
    this.sec = this.seconds;
    this.ns = ns;
    this.okAt = start;
    return space;
  }

  /** Checks the fixed part of a stamp not seen before, and caches its second. */
  private newSecond(s: string, start: number, zoneAt: number, space: number): boolean {
    for (let k = 0; k < 19; k++) {
      const c = s.charCodeAt(start + k);
      if (SHAPE[k] === "d" ? !isDigit(c) : c !== SHAPE.charCodeAt(k)) return false;
    }
    const zone = s.slice(zoneAt, space);
    const seconds = Date.parse(s.slice(start, start + 19) + zone) / 1000;
    if (Number.isNaN(seconds)) return false;
    this.prefix = s.slice(start, start + 19);
    this.zone = zone;
    this.seconds = seconds;
    return true;
  }
}

/** A line's timestamp ([seconds, nanoseconds]) and its text; no stamp when the line does not start with one. */
export function splitStamp(line: string): [Stamp | undefined, string] {
  const p = new StampParser();
  const space = p.parse(line, 0, line.length);
  return space > 0 ? [[p.sec, p.ns], line.slice(space + 1)] : [undefined, line];
}

function compare(a: Stamp, b: Stamp): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Lines that a resumed stream could not read again: written after one timestamp and before another. */
export interface LogGap {
  after: string;
  before: string;
}

export class LogCursor {
  /** The last delivered line's stamp, when there is one. */
  private hasLast = false;
  private lastSec = 0;
  private lastNs = 0;
  private readonly stamp = new StampParser();
  private lastText?: string;
  /** lastRaw, sliced when read (by isAtEnd) rather than per line: 1M lines, 0.10 s of CPU -> 0.09 s. */
  private rawSource?: string;
  private rawStart = 0;
  private rawEnd = 0;
  /** Lines delivered carrying the last timestamp. */
  private atLast = 0;
  /** While resuming: lines at the last timestamp still to pass over. */
  private skipAtLast = 0;
  private resuming = false;
  private partial_ = "";
  /** Lines delivered so far. */
  count = 0;
  private gap?: LogGap;

  /** The gap the last stream found in the log, if any, once. */
  takeGap(): LogGap | undefined {
    const g = this.gap;
    this.gap = undefined;
    return g;
  }

  /** Options for the next stream: from the start, or from the second of the last line delivered. */
  nextStream(): { sinceTime?: string } {
    this.partial_ = "";
    if (!this.hasLast) return {};
    this.resuming = true;
    this.skipAtLast = this.atLast;
    return { sinceTime: new Date(this.lastSec * 1000).toISOString().replace(/\.\d+Z$/, "Z") };
  }

  /**
   * Feeds a chunk of the stream; returns the lines it completes that were not delivered before. Lines are
   * read in place, by offsets into the chunk: only `time` and `text` are sliced. Only the line cut at the
   * last chunk's end is joined to this one; joining the whole chunk to it, every line was read through
   * the joined string: 1M lines, 0.14 s of CPU against 0.09 s.
   */
  push(chunk: string): LogLine[] {
    const out: LogLine[] = [];
    let nl = chunk.indexOf("\n");
    if (nl < 0) {
      this.partial_ += chunk;
      return out;
    }
    let start = 0;
    if (this.partial_ !== "") {
      const line = this.partial_ + chunk.slice(0, nl);
      const delivered = this.accept(line, 0, line.length);
      if (delivered) out.push(delivered);
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    for (let prev = -1; nl >= 0; nl = chunk.indexOf("\n", start)) {
      const delivered = this.accept(chunk, start, nl, prev);
      if (delivered) out.push(delivered);
      prev = start;
      start = nl + 1;
    }
    this.partial_ = chunk.slice(start);
    return out;
  }

  /** The last line delivered as the server sent it, timestamp included (CR before LF dropped). */
  get lastRaw(): string | undefined {
    return this.rawSource?.slice(this.rawStart, this.rawEnd);
  }

  /** The text after the last newline: a line cut mid-way, or a last line written without a newline. */
  get partial(): string {
    return this.partial_;
  }

  /** Whether this stream has got past everything delivered before it (or there was nothing before). */
  get caughtUp(): boolean {
    return !this.resuming || this.skipAtLast === 0;
  }

  /**
   * The stream ended. When the container has finished and this was the last read of its log, a final
   * line without a newline is complete; otherwise it is read again by the next stream.
   */
  end(final: boolean): LogLine[] {
    const rest = this.partial_;
    this.partial_ = "";
    if (final && rest !== "") {
      const delivered = this.accept(rest, 0, rest.length);
      return delivered ? [delivered] : [];
    }
    return [];
  }

  /**
   * Whether `tail`, the log's last line as read with tailLines=1, is where this cursor stands: its last
   * delivered line, or the unterminated `partial` the last stream ended on. A line longer than the
   * runtime's entry size is logged in pieces and the tail is only its last piece, so a partial matches
   * when it ends with the tail's text at the same or a later time.
   */
  isAtEnd(tail: string, partial: string): boolean {
    if (tail === "") return this.count === 0 && partial === "";
    const terminated = tail.endsWith("\n");
    const last = (terminated ? tail.slice(0, -1) : tail).split("\n").pop()!.replace(/\r$/, "");
    // Compared in place: a stream of a finished container asks this after every chunk.
    if (terminated) return partial === "" && this.rawSource !== undefined && this.rawEnd - this.rawStart === last.length && this.rawSource.startsWith(last, this.rawStart);
    if (partial === "" || partial === last) return partial === last;
    const [pStamp, pText] = splitStamp(partial);
    const [tStamp, tText] = splitStamp(last);
    return pText.endsWith(tText) && (!pStamp || !tStamp || compare(tStamp, pStamp) >= 0);
  }

  /** The line s[start, nl), nl at its newline or the end of s; prev as for StampParser.parse. */
  private accept(s: string, start: number, nl: number, prev = -1): LogLine | undefined {
    const end = nl > start && s.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    const space = this.stamp.parse(s, start, end, prev);
    if (space < 0) {
      // No timestamp: the server ignored timestamps=true. Deliver as is, in arrival order.
      this.count++;
      this.setRaw(s, start, end);
      return { time: this.lastText ?? "", text: s.slice(start, end) };
    }
    const { sec, ns } = this.stamp;
    const c = this.hasLast ? sec - this.lastSec || ns - this.lastNs : 1;
    if (this.resuming && this.hasLast) {
      if (c < 0) return undefined;
      if (c === 0 && this.skipAtLast > 0) {
        this.skipAtLast--;
        return undefined;
      }
      // A newer line before the last ones delivered came round again: the log no longer has them. The
      // kubelet serves only a log's newest file, and it rotated the log (containerLogMaxSize) since:
      // what was written between them and this line is in a file no API serves.
      if (c > 0 && this.skipAtLast > 0) this.gap = { after: this.lastText ?? "", before: s.slice(start, space) };
      this.resuming = false;
    }
    if (c === 0) this.atLast++;
    else {
      // Not [a, b] = [x, y]: that allocated an array per line (1M lines: 0.01 s of CPU).
      this.hasLast = true;
      this.lastSec = sec;
      this.lastNs = ns;
      this.atLast = 1;
    }
    const time = s.slice(start, space);
    this.lastText = time;
    this.setRaw(s, start, end);
    this.count++;
    return { time, text: s.slice(space + 1, end) };
  }

  private setRaw(s: string, start: number, end: number) {
    this.rawSource = s;
    this.rawStart = start;
    this.rawEnd = end;
  }
}
