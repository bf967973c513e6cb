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

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

function parseStamp(text: string): Stamp | undefined {
  const m = STAMP.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`) / 1000;
  if (Number.isNaN(seconds)) return undefined;
  return [seconds, Number((m[2] ?? "").padEnd(9, "0"))];
}

function splitStamp(line: string): [Stamp | undefined, string] {
  const space = line.indexOf(" ");
  const stamp = space > 0 ? parseStamp(line.slice(0, space)) : undefined;
  return stamp ? [stamp, line.slice(space + 1)] : [undefined, line];
}

function compare(a: Stamp, b: Stamp): number {
  return a[0] - b[0] || a[1] - b[1];
}

export class LogCursor {
  private last?: Stamp;
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

  /** Options for the next stream: from the start, or from the second of the last line delivered. */
  nextStream(): { sinceTime?: string } {
    this.partial_ = "";
    if (!this.last) return {};
    this.resuming = true;
    this.skipAtLast = this.atLast;
    return { sinceTime: new Date(this.last[0] * 1000).toISOString().replace(/\.\d+Z$/, "Z") };
  }

  /** Feeds a chunk of the stream; returns the lines it completes that were not delivered before. */
  push(chunk: string): LogLine[] {
    const text = this.partial_ + chunk;
    const lines = text.split("\n");
    this.partial_ = lines.pop() ?? "";
    const out: LogLine[] = [];
    for (const line of lines) {
      const delivered = this.accept(line);
      if (delivered) out.push(delivered);
    }
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
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const [stamp, text] = splitStamp(line);
    if (!stamp) {
      // No timestamp: the server ignored timestamps=true. Deliver as is, in arrival order.
      this.count++;
      this.lastRaw = line;
      return { time: this.lastText ?? "", text: line };
    }
    const time = line.slice(0, line.length - text.length - 1);
    if (this.resuming && this.last) {
      const c = compare(stamp, this.last);
      if (c < 0) return undefined;
      if (c === 0 && this.skipAtLast > 0) {
        this.skipAtLast--;
        return undefined;
      }
      this.resuming = false;
    }
    if (this.last && compare(stamp, this.last) === 0) this.atLast++;
    else {
      this.last = stamp;
      this.atLast = 1;
    }
    this.lastText = time;
    this.lastRaw = line;
    this.count++;
    return { time, text };
  }
}
