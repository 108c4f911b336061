// wasi:io (error, poll, streams) for one process, in the worker itself: no helper thread. jco's
// glue checks resources with instanceof against the classes it was given, so these classes
// (and their subclasses) are what every stream and pollable of a process is. Errors follow jco's
// convention: a `result` error is thrown as its payload ({tag: 'closed'}, or
// {tag: 'last-operation-failed', val: IoError}).

import { fsErrorCode } from './errors.js';

/** wasi:io/error `error`: what a failed stream operation carries (its fs code for files). */
export class IoError {
  constructor(
    readonly message: string,
    /** the wasi:filesystem error code, for filesystem-error-code */
    readonly code: string | undefined = undefined,
  ) {}

  toDebugString(): string {
    return this.message;
  }
}

export const CLOSED = { tag: 'closed' } as const;

export function lastOperationFailed(e: unknown): { tag: 'last-operation-failed'; val: IoError } {
  const code = fsErrorCode(e);
  return { tag: 'last-operation-failed', val: new IoError(e instanceof Error ? e.message : String(e), code) };
}

// ---- poll ----

let waitCell: Int32Array | undefined;

/** Block this thread for `ms` (a process blocked in WASI is blocked, as in the runtime). */
function sleepMs(ms: number): void {
  if (ms <= 0) return;
  waitCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(waitCell, 0, 0, ms);
}

const nowNs = (): bigint => process.hrtime.bigint();

/** wasi:io/poll `pollable`: ready now (streams, which never block here), or at a monotonic instant. */
export class Pollable {
  constructor(
    /** monotonic-clock nanoseconds at which it is ready; undefined = always ready */
    readonly deadline: bigint | undefined = undefined,
  ) {}

  ready(): boolean {
    return this.deadline === undefined || nowNs() >= this.deadline;
  }

  block(): void {
    if (this.deadline === undefined) return;
    for (let left = this.deadline - nowNs(); left > 0n; left = this.deadline - nowNs()) {
      sleepMs(Math.ceil(Number(left) / 1e6));
    }
  }
}

/** wasi:io/poll `poll`: the indices of the ready pollables, waiting for the first one if none is. */
export function poll(list: Pollable[]): Uint32Array {
  if (list.length === 0) throw new Error('wasi:io/poll: poll of an empty list');
  for (;;) {
    const ready: number[] = [];
    let next: bigint | undefined;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p.ready()) ready.push(i);
      else if (next === undefined || p.deadline! < next) next = p.deadline;
    }
    if (ready.length > 0) return Uint32Array.from(ready);
    new Pollable(next).block();
  }
}

const alwaysReady = (): Pollable => new Pollable();

// ---- streams ----

/** wasi:io/streams `input-stream`. This base is an empty stream at its end (the process's stdin). */
export class InputStream {
  read(_len: bigint): Uint8Array {
    throw CLOSED;
  }

  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }

  skip(len: bigint): bigint {
    return BigInt(this.read(len).length);
  }

  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }

  subscribe(): Pollable {
    return alwaysReady();
  }
}

/** wasi:io/streams `output-stream`. This base discards what it is given (the process's stdout). */
export class OutputStream {
  /** bytes a `write` may take now; files and stdio never block */
  checkWrite(): bigint {
    return 1n << 20n;
  }

  write(_contents: Uint8Array): void {}

  blockingWriteAndFlush(contents: Uint8Array): void {
    this.write(contents);
  }

  flush(): void {}

  blockingFlush(): void {
    this.flush();
  }

  writeZeroes(len: bigint): void {
    this.write(new Uint8Array(Number(len)));
  }

  blockingWriteZeroesAndFlush(len: bigint): void {
    this.writeZeroes(len);
  }

  splice(src: InputStream, len: bigint): bigint {
    const bytes = src.read(len); // a closed source is this call's `closed`, as the spec says
    this.write(bytes);
    return BigInt(bytes.length);
  }

  blockingSplice(src: InputStream, len: bigint): bigint {
    return this.splice(src, len);
  }

  subscribe(): Pollable {
    return alwaysReady();
  }
}

/** The first `capacity` bytes written, kept for the crash report (the process's stderr). */
export class CapturedOutput extends OutputStream {
  private readonly kept: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    super();
    this.kept = new Uint8Array(capacity);
  }

  override write(contents: Uint8Array): void {
    const n = Math.min(contents.length, this.kept.length - this.length);
    if (n > 0) {
      this.kept.set(contents.subarray(0, n), this.length);
      this.length += n;
    }
  }

  text(): string {
    return Buffer.from(this.kept.buffer, 0, this.length).toString('utf8');
  }
}
