// Blobs a module hands over with its message: it will never read or change the bytes again, so
// when they go to a process the kernel may transfer their buffer to the process's worker
// instead of copying them (process/message-codec.ts "with blobs"; measured in
// docs/performance.md "vfs blobs"). Opt-in, because the kernel cannot know on its own who else
// holds a blob: a module may cache what it sends, and the kernel keeps a process's request blob
// for the timeout error. A transferred buffer is detached on this thread afterwards, so only
// bytes that no one keeps may be marked.

import { threadBlobPool } from '../process/blob-pool.js';

const handedOver = new WeakSet<Uint8Array>();

/** Mark `bytes` as given up by their creator; returns them. */
export function handOver<T extends Uint8Array>(bytes: T): T {
  handedOver.add(bytes);
  return bytes;
}

/** Were `bytes` handed over (so the kernel may transfer them to a worker)? */
export function isHandedOver(bytes: Uint8Array): boolean {
  return handedOver.has(bytes);
}

// The other way round: a module that received a big blob from a process and is done with it may
// give its buffer back, and a later read of exactly that many bytes may go into it instead of
// into fresh memory (process/blob-pool.ts says why fresh memory is dear on this VM). Only a
// buffer that came whole from a worker by transfer is kept, and only one that no one else holds:
// the caller must be sure the kernel no longer keeps the request (its expects-response timer was
// taken by the answer; vfs checks that its answer was not refused by a full mailbox).

/** `bytes` (a received blob) are no longer used by the module or anyone else. */
export function giveBack(bytes: Uint8Array): void {
  threadBlobPool().release(bytes);
}

/** A spare buffer of exactly `len` bytes to read into (old contents still in it), or undefined. */
export function takeSpare(len: number): ArrayBuffer | undefined {
  return threadBlobPool().take(len);
}
