// Restart pacing for on-exit Restart (Kinode 1.0's rule, applied to both generations so a
// process that keeps dying never spins the CPU): the first restart is immediate; dying again
// inside the window waits for the window's end, and each consecutive early death doubles the
// next window (delays 0, 1, 1, 2, 4, 8 ... s). Surviving past the window resets it.

const BASE_MS = 1000;
const MAX_MS = 5 * 60 * 1000;

export class RestartBackoff {
  private lastStart: number | undefined;
  private attempts = 0;
  private windowMs = BASE_MS;

  /** Delay before the next start, for an exit happening at `now`. */
  next(now: number): number {
    if (this.lastStart === undefined || now >= this.lastStart + this.windowMs) {
      this.attempts = 0;
      this.windowMs = BASE_MS;
      return 0;
    }
    const delay = this.lastStart + this.windowMs - now;
    this.attempts += 1;
    this.windowMs = Math.min(BASE_MS * 2 ** (this.attempts - 1), MAX_MS);
    return delay;
  }

  started(now: number): void {
    this.lastStart = now;
  }
}
