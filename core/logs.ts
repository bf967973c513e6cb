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
 * Parses line[0, end) as YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM) by hand, without a regular expression
 * or a string per line: the cursor does this for every line of logs that run to millions. Date.parse is
 * only called when the second changes (cached in `seconds`).
 */
class StampParser {
  sec = 0;
  ns = 0;
  private prefix = "";
  private zone = "";
  private seconds = 0;

  parse(line: string, end: number): boolean {
    if (end < 20) return false;
    // The same second as the line before (most lines): its fixed part was checked then.
    const sameSecond = this.prefix !== "" && line.startsWith(this.prefix);
    for (let i = 0; i < 19 && !sameSecond; i++) {
      const c = line.charCodeAt(i);
      if (SHAPE[i] === "d" ? !isDigit(c) : c !== SHAPE.charCodeAt(i)) return false;
    }
    let i = 19;
    let ns = 0;
    if (line.charCodeAt(i) === 0x2e) {
      for (i++; i < end && i < 29 && isDigit(line.charCodeAt(i)); i++) ns = ns * 10 + line.charCodeAt(i) - 0x30;
      if (i === 20) return false;
      ns *= TENS[29 - i];
    }
    const z = line.charCodeAt(i);
    const zoned = z === 0x5a ? end === i + 1
      : (z === 0x2b || z === 0x2d) && end === i + 6 && isDigit(line.charCodeAt(i + 1)) && isDigit(line.charCodeAt(i + 2)) && line.charCodeAt(i + 3) === 0x3a && isDigit(line.charCodeAt(i + 4)) && isDigit(line.charCodeAt(i + 5));
    if (!zoned) return false;
    if (!(sameSecond && end - i === this.zone.length && line.startsWith(this.zone, i))) {
      const prefix = line.slice(0, 19);
      const zone = line.slice(i, end);
      const seconds = Date.parse(prefix + zone) / 1000;
      if (Number.isNaN(seconds)) return false;
      [this.prefix, this.zone, this.seconds] = [prefix, zone, seconds];
    }
    this.sec = this.seconds;
    this.ns = ns;
    return true;
  }
}

/** A line's timestamp ([seconds, nanoseconds]) and its text; no stamp when the line does not start with one. */
export function splitStamp(line: string): [Stamp | undefined, string] {
  const space = line.indexOf(" ");
  const p = new StampParser();
  return space > 0 && p.parse(line, space) ? [[p.sec, p.ns], line.slice(space + 1)] : [undefined, line];
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
  /** The last line delivered as the server sent it, timestamp included. */
  lastRaw?: string;
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

  /** Feeds a chunk of the stream; returns the lines it completes that were not delivered before. */
  push(chunk: string): LogLine[] {
    const text = this.partial_ === "" ? chunk : this.partial_ + chunk;
    const out: LogLine[] = [];
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const delivered = this.accept(text.slice(start, nl));
      if (delivered) out.push(delivered);
      start = nl + 1;
    }
    this.partial_ = start === 0 ? text : text.slice(start);
    return out;
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
      const delivered = this.accept(rest);
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
    if (terminated) return partial === "" && last === this.lastRaw;
    if (partial === "" || partial === last) return partial === last;
    const [pStamp, pText] = splitStamp(partial);
    const [tStamp, tText] = splitStamp(last);
    return pText.endsWith(tText) && (!pStamp || !tStamp || compare(tStamp, pStamp) >= 0);
  }

  private accept(raw: string): LogLine | undefined {
    const line = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
    const space = line.indexOf(" ");
    if (space <= 0 || !this.stamp.parse(line, space)) {
      // No timestamp: the server ignored timestamps=true. Deliver as is, in arrival order.
      this.count++;
      this.lastRaw = line;
      return { time: this.lastText ?? "", text: line };
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
      if (c > 0 && this.skipAtLast > 0) this.gap = { after: this.lastText ?? "", before: line.slice(0, space) };
      this.resuming = false;
    }
    if (c === 0) this.atLast++;
    else {
      [this.hasLast, this.lastSec, this.lastNs] = [true, sec, ns];
      this.atLast = 1;
    }
    const time = line.slice(0, space);
    this.lastText = time;
    this.lastRaw = line;
    this.count++;
    return { time, text: line.slice(space + 1) };
  }
}
