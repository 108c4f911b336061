// The node's recent printed lines: a fixed-size ring (issue 11.7: lines used to be kept for the
// node's whole life). Lines are numbered from 0 in print order; the ring holds the last
// `capacity` of them, so a reader can ask for "lines from number n on" without indices drifting
// once old lines fall out.

export const PRINT_RING_LINES = 1000;

export class PrintRing {
  private readonly buf: string[] = [];
  private start = 0; // buf index of the oldest line once the ring is full
  /** lines printed so far (the number the next line gets) */
  total = 0;

  constructor(readonly capacity = PRINT_RING_LINES) {}

  push(line: string): void {
    if (this.buf.length < this.capacity) this.buf.push(line);
    else {
      this.buf[this.start] = line;
      this.start = (this.start + 1) % this.capacity;
    }
    this.total++;
  }

  /** The lines still held, oldest first, whose numbers are >= `from`. */
  since(from = 0): string[] {
    const ordered = this.start === 0 ? this.buf.slice() : [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
    const first = this.total - ordered.length; // number of ordered[0]
    return from <= first ? ordered : ordered.slice(from - first);
  }
}
