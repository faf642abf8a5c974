/**
 * Progress display for long work. On a terminal: one line redrawn in place (at most 10 times a
 * second) with a bar, rate and ETA. Otherwise (CI, pipes, files): a plain line every `plainEvery`
 * fraction of the work, so logs stay readable.
 */

import { host, type TextSink } from '../engine/host.js';

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Stream to draw on; default the host's stderr (Node: standard error). */
  stream?: TextSink;
  /** Force terminal / plain mode; default: the stream's isTTY. */
  tty?: boolean;
  /** In plain mode, print every this fraction of the total (default 0.25). */
  plainEvery?: number;
  /** Disable all output. */
  silent?: boolean;
}

/** A progress bar for `total` units of work labelled `label`. */
export class Progress {
  private readonly stream: TextSink;
  private readonly tty: boolean;
  private readonly start = performance.now();
  private lastDraw = 0;
  private nextPlain: number;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? host().stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.nextPlain = (opts.plainEvery ?? 0.25) * total;
  }

  /** Marks `n` more units done and shows `info` (e.g. the running loss). */
  tick(n = 1, info = ''): void {
    this.done += n;
    if (this.opts.silent) return;
    const now = performance.now();
    if (this.tty) {
      if (now - this.lastDraw < 100 && this.done < this.total) return;
      this.lastDraw = now;
      const width = 24;
      const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
      const fill = Math.round(frac * width);
      const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
      this.stream.write(`\r\x1b[2K${this.label} ${bar} ${this.done}/${this.total} ${this.rate(now)} ${info}`);
    } else if (this.done >= this.nextPlain || this.done >= this.total) {
      this.nextPlain += (this.opts.plainEvery ?? 0.25) * this.total;
      this.stream.write(`${this.label} ${this.done}/${this.total} ${this.rate(now)} ${info}\n`);
    }
  }

  /** Ends the bar (moves to a new line on a terminal). */
  finish(): void {
    if (!this.opts.silent && this.tty) this.stream.write('\n');
  }

  private rate(now: number): string {
    const sec = (now - this.start) / 1000;
    const per = this.done > 0 ? sec / this.done : 0;
    const eta = per * Math.max(0, this.total - this.done);
    return `[${fmtTime(sec)} < ${fmtTime(eta)}, ${per > 0 ? (1 / per).toFixed(1) : '–'}/s]`;
  }
}

/** Formats seconds as m:ss or h:mm:ss. */
export function fmtTime(sec: number): string {
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}
