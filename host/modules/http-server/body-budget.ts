// How many request-body bytes the HTTP server holds at once (`--max-body-inflight`, issue 11.8).
// Each request with a body reserves its declared Content-Length (a chunked one: the body limit)
// before a byte of it is read, and gives the reservation back when its response is over
// (answered, timed out or the client gone): the body, its copy in the message to the process and
// the process's own copy all live about that long. Requests that do not fit wait in arrival
// order, unread, so TCP pushes back on their clients; a request is admitted alone when it is
// bigger than the whole budget, so it is never starved. No deadlock: an admitted request holds
// all it needs to finish. The runtime has no such limit (each upload is buffered as it comes).

export class BodyBudget {
  private used = 0;
  private readonly queue: Array<{ bytes: number; grant: () => void }> = [];

  constructor(readonly limit: number) {}

  /** Bytes reserved now (tests, diagnostics). */
  get reserved(): number {
    return this.used;
  }

  /** Requests waiting for room. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Reserve `bytes`. `admitted` resolves once they fit; `release` gives them back (or leaves the
   * queue); it may be called any number of times, at any point.
   */
  reserve(bytes: number): { admitted: Promise<void>; release: () => void } {
    let state: 'waiting' | 'held' | 'done' = 'waiting';
    let grant!: () => void;
    const admitted = new Promise<void>((resolve) => {
      grant = () => {
        state = 'held';
        this.used += bytes;
        resolve();
      };
    });
    const entry = { bytes, grant };
    this.queue.push(entry);
    this.pump();
    const release = (): void => {
      if (state === 'held') this.used -= bytes;
      else if (state === 'waiting') this.queue.splice(this.queue.indexOf(entry), 1);
      state = 'done';
      this.pump();
    };
    return { admitted, release };
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (this.used !== 0 && this.used + head.bytes > this.limit) return;
      this.queue.shift();
      head.grant();
    }
  }
}
