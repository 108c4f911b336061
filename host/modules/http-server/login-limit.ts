// The rate limit on `POST /login` (the runtime has none): each client address may fail
// LOGIN_FAILURES_ALLOWED times within LOGIN_WINDOW_MS; past that its attempts answer 429 with
// `Retry-After` until the window that began with its first failure ends. Successful logins do
// not count and a success clears the address's failures. Argon2 and the password are never
// computed for a refused attempt, so a flood costs the node a map lookup per request.
//
// Addresses are the TCP peer's (no X-Forwarded-For: a proxy in front should limit itself).
// The table is bounded: past LOGIN_TRACKED_MAX addresses the oldest windows are dropped.

export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_WINDOW_MS = 60_000;
export const LOGIN_TRACKED_MAX = 10_000;

interface Window {
  start: number;
  failures: number;
}

export class LoginLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly allowed = LOGIN_FAILURES_ALLOWED,
    private readonly windowMs = LOGIN_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the address must wait, or 0 when it may try now. */
  retryAfter(addr: string): number {
    const w = this.windows.get(addr);
    if (!w) return 0;
    const left = w.start + this.windowMs - this.now();
    if (left <= 0) {
      this.windows.delete(addr);
      return 0;
    }
    return w.failures >= this.allowed ? Math.ceil(left / 1000) : 0;
  }

  failed(addr: string): void {
    const now = this.now();
    let w = this.windows.get(addr);
    if (!w || w.start + this.windowMs <= now) {
      if (w) this.windows.delete(addr);
      w = { start: now, failures: 0 };
      this.windows.set(addr, w);
      if (this.windows.size > LOGIN_TRACKED_MAX) {
        // Map keeps insertion order: the first entries are the oldest windows
        const drop = this.windows.size - LOGIN_TRACKED_MAX;
        let i = 0;
        for (const k of this.windows.keys()) {
          if (i++ >= drop) break;
          this.windows.delete(k);
        }
      }
    }
    w.failures++;
  }

  succeeded(addr: string): void {
    this.windows.delete(addr);
  }
}
