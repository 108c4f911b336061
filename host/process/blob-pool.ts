// Spare buffers for big blobs in a process worker. A process that moves a big blob in a loop
// (process_lib's File::write then File::read of the same file) gets one fresh ArrayBuffer per
// lift out of its memory (jco's `memory.buffer.slice`) and drops one buffer per received blob.
// On this VM a fresh buffer's first touch is the dearest step of the whole pair: the lift zero-
// fills and page-faults 256 fresh pages per MiB (docs/performance.md §14, §28). Here a received
// blob that the process no longer holds (its last blob was replaced) is kept, and the next lift
// of exactly that many bytes copies into it instead of into fresh memory: the buffers of a
// Write + Read loop then go round between the kernel and the process without a fresh page.
//
// Only buffers that arrived by transfer (message-codec.ts "with blobs") are ever kept: each is
// a whole ArrayBuffer that nothing else on this thread refers to once ProcessHost lets go of it.
// The glue (loader/glue-lift.ts) is a script with no imports: it finds the pool of its thread
// under a registered symbol on globalThis.

/** Where the glue looks for this thread's pool. */
const BLOB_POOL_KEY = Symbol.for('kinode-host.blob-pool');

/** At most this many spare buffers and bytes per thread: a pool is a reuse, not a cache. */
const MAX_BUFFERS = 2;
const MAX_BYTES = 16 * 1024 * 1024;
/** Smaller blobs travel inside the message (message-codec.ts OOB_MIN_BYTES): never here. */
const MIN_BYTES = 32 * 1024;

const arrived = new WeakSet<ArrayBuffer>();
/** buffers that two blobs of one batch share (one transfer, two views): never kept */
const shared = new WeakSet<ArrayBuffer>();

/**
 * `buf` came to this thread by transfer, whole: the receiver may keep it once it lets go of its
 * blob. A transfer makes a new ArrayBuffer object here, so a buffer noted twice is one that two
 * blobs of the same batch share, and neither may give it up alone.
 */
export function noteArrived(buf: ArrayBuffer): void {
  if (buf.byteLength < MIN_BYTES || shared.has(buf)) return;
  if (arrived.has(buf)) {
    arrived.delete(buf);
    shared.add(buf);
  } else arrived.add(buf);
}

export class BlobPool {
  private readonly spare: ArrayBuffer[] = [];
  private bytes = 0;

  /** A spare buffer of exactly `len` bytes (its old contents still in it), or undefined. */
  take(len: number): ArrayBuffer | undefined {
    const spare = this.spare;
    for (let i = spare.length - 1; i >= 0; i--) {
      const b = spare[i]!;
      if (b.byteLength !== len) continue;
      spare.splice(i, 1);
      this.bytes -= len;
      return b;
    }
    return undefined;
  }

  /**
   * The blob `bytes` is no longer held by its receiver: keep its buffer if it arrived whole by
   * transfer and is still attached here (a buffer is kept once: it leaves the arrived set).
   */
  release(bytes: Uint8Array): void {
    // the usual small blob: one compare (a detached buffer's view reads 0 here too)
    if (bytes.byteLength < MIN_BYTES) return;
    const buf = bytes.buffer;
    if (!(buf instanceof ArrayBuffer) || !arrived.has(buf)) return;
    arrived.delete(buf);
    const len = buf.byteLength;
    if (len > MAX_BYTES) return;
    this.spare.push(buf);
    this.bytes += len;
    while (this.spare.length > MAX_BUFFERS || this.bytes > MAX_BYTES) this.bytes -= this.spare.shift()!.byteLength;
  }

  /** How many spare buffers are kept (tests). */
  get size(): number {
    return this.spare.length;
  }
}

/** This thread's pool, made and registered for the glue on first use. */
export function threadBlobPool(): BlobPool {
  const g = globalThis as { [BLOB_POOL_KEY]?: BlobPool };
  return (g[BLOB_POOL_KEY] ??= new BlobPool());
}
