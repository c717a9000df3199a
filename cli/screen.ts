/** Where the screen writes: process.stderr and process.stdout, or fakes that record in tests. */
export interface ScreenStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Back to the start of the line and erase it (ECMA-48 CR, EL 2). */
const ERASE_LINE = '\r\x1b[2K';

/**
 * The terminal as the CLI shares it: whole lines (log lines on stderr, tables on stdout) and at most one
 * status line under them (a progress bar), kept on stderr's last line without a newline. Everything
 * printed while a bar is shown goes through here: the bar is erased, the line printed, the bar drawn
 * again. Written to directly, the two glued together (`eta 1s23:01:37 INFO train: ...`), and a table
 * printed after the bar's cursor restore overwrote the lines above it.
 */
export class Screen {
  private status: { owner: object; text: string } | undefined;
  /** Owners whose status line has ended: a bar finished after a failure released it draws no more. */
  private readonly ended = new WeakSet<object>();

  constructor(
    private readonly err: ScreenStream,
    private readonly out: ScreenStream,
  ) {}

  /** Columns a status line may use: one less than the terminal's, so it never wraps. */
  get width(): number {
    // A pseudo-terminal without a size reports 0 columns.
    return Math.max(20, (this.err.columns || 80) - 1);
  }

  /** A line on stderr (a log line), above the status line. */
  errLine(text: string): void {
    this.above(this.err, text);
  }

  /** A line on stdout (a table row, a summary), above the status line when both share the terminal. */
  outLine(text: string): void {
    this.above(this.out, text);
  }

  /** Draws `text` as the status line for `owner` (a bar), in place of what the line showed before. */
  showStatus(owner: object, text: string): void {
    if (this.ended.has(owner)) return;
    const fitted = text.length > this.width ? text.slice(0, this.width) : text;
    this.status = { owner, text: fitted };
    this.err.write(`${ERASE_LINE}${fitted}`);
  }

  /** `owner`'s status line stays as a line of its own (a finished bar); another owner's is left alone. */
  endStatus(owner: object): void {
    this.ended.add(owner);
    if (this.status?.owner !== owner) return;
    this.status = undefined;
    this.err.write('\n');
  }

  /** Whatever status line is shown stays where it stopped, as a line of its own (before a failure). */
  release(): void {
    if (this.status) this.endStatus(this.status.owner);
  }

  private above(stream: ScreenStream, text: string): void {
    // stdout into a pipe or file never reaches the terminal: the bar can stay.
    if (!this.status || (stream !== this.err && !stream.isTTY)) {
      stream.write(`${text}\n`);
      return;
    }
    this.err.write(ERASE_LINE);
    stream.write(`${text}\n`);
    this.err.write(this.status.text);
  }
}
