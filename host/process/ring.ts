// One direction of the link between the kernel and a process worker: a single-producer,
// single-consumer byte ring in a SharedArrayBuffer, with a MessagePort beside it for what the
// ring cannot take (an item larger than the ring, a full ring, or a structured object such as a
// print or a blocking call). Items written to the ring cost one copy in and one copy out and no
// thread hop; a port post costs a structured-clone round through Node's messaging (the
// largest per-message cost of the local path before the ring, docs/performance.md).
//
// Order: every item of the stream carries a sequence number, whether it goes to the ring or to
// the port; the reader takes them strictly in sequence, so an item that overflowed to the port
// neither overtakes nor is overtaken by its neighbours in the ring.
//
// Layout of the buffer: the reader's position (head) at byte 0 and the writer's (tail) at byte 64
// (separate cache lines: each side writes only its own), the data from byte 128. Positions are
// free-running 32-bit counters; the data offset is the counter modulo the (power-of-two) size.
// An entry is [length i32][sequence i32][bytes, padded to 8]; a length of -1 says "the rest up to
// the end is unused, continue at offset 0". The writer publishes an entry with one Atomics.store
// of the tail after writing it; the reader frees entries with a store of the head once an eighth
// of the ring was read, or when it finds nothing more to take (RingReceiver.publish).

import { receiveMessageOnPort, type MessagePort, type TransferListItem } from 'node:worker_threads';

/**
 * 32 KiB per direction: a batch of 64 in-flight small messages (~150 bytes each encoded) fits about
 * three times over; bigger items take the port. A SharedArrayBuffer's memory is zeroed (so
 * resident) when it is created: measured +56 MiB RSS for 2,000 rings of 32 KiB, i.e. ~28 MiB for
 * 1,000 processes (64 KiB rings: ~46 MiB; 16 KiB: ~15 MiB) against ~10 MiB per process.
 */
export const RING_DATA_BYTES = 32 * 1024;
/** Bytes of a receiver's arena of copied-out items (RingReceiver.copyOut). */
const ARENA_BYTES = 16 * 1024;
const HEAD = 0;
const TAIL = 16;
/** writer -> reader: items posted to the port so far (the reader asks the port only when it moved) */
const PORTED = 24;
const DATA = 128;
const WRAP = -1;

export function newRing(dataBytes = RING_DATA_BYTES): SharedArrayBuffer {
  if (dataBytes < 64 || (dataBytes & (dataBytes - 1)) !== 0) throw new Error(`ring size must be a power of two >= 64 (${dataBytes})`);
  return new SharedArrayBuffer(DATA + dataBytes);
}

const pad = (n: number): number => (n + 7) & ~7;

/** A port message of the stream: [sequence, payload] */
type PortItem = [number, unknown];

export class RingSender {
  private readonly ctl: Int32Array;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly size: number;
  private tail: number;
  private seq = 0;

  constructor(sab: SharedArrayBuffer, private readonly port: MessagePort) {
    this.ctl = new Int32Array(sab, 0, DATA / 4);
    this.size = sab.byteLength - DATA;
    this.words = new Int32Array(sab, DATA, this.size / 4);
    this.bytes = new Uint8Array(sab, DATA, this.size);
    this.tail = Atomics.load(this.ctl, TAIL);
  }

  /**
   * Send `b` as the next item: into the ring (copied; `b` may be reused by the caller at once) or,
   * when it does not fit now, copied out and transferred over the port.
   */
  sendBytes(b: Uint8Array): void {
    const seq = this.seq;
    this.seq = (seq + 1) | 0;
    if (this.write(b, seq)) return;
    const own = b.slice();
    this.port.postMessage([seq, own] satisfies PortItem, [own.buffer]);
    Atomics.add(this.ctl, PORTED, 1);
  }

  /** Send a structured object (always over the port), in sequence with the bytes items; `transfer` moves buffers instead of cloning them. */
  sendObject(m: unknown, transfer?: readonly TransferListItem[]): void {
    const seq = this.seq;
    this.seq = (seq + 1) | 0;
    this.port.postMessage([seq, m] satisfies PortItem, transfer);
    // after the post: a port's post is in its peer's queue when it returns, so a reader that sees
    // the count finds the item (receiveMessageOnPort on an empty port was a measured cost of every poll)
    Atomics.add(this.ctl, PORTED, 1);
  }

  private write(b: Uint8Array, seq: number): boolean {
    const need = 8 + pad(b.length);
    const size = this.size;
    if (need > size) return false;
    let tail = this.tail;
    let pos = tail & (size - 1);
    const free = size - ((tail - Atomics.load(this.ctl, HEAD)) >>> 0);
    const toEnd = size - pos;
    const skip = need > toEnd ? toEnd : 0;
    if (skip + need > free) return false;
    if (skip) {
      this.words[pos >> 2] = WRAP;
      tail = (tail + skip) | 0;
      pos = 0;
    }
    this.words[pos >> 2] = b.length;
    this.words[(pos >> 2) + 1] = seq;
    this.bytes.set(b, pos + 8);
    this.tail = (tail + need) | 0;
    Atomics.store(this.ctl, TAIL, this.tail);
    return true;
  }
}

export class RingReceiver {
  private readonly ctl: Int32Array;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly size: number;
  private head: number;
  /** the head as the writer last saw it: freed bytes are published in steps (fromRing) */
  private publishedHead: number;
  private expect = 0;
  /** port items taken so far (compared with the writer's PORTED count) */
  private portTaken = 0;
  /** a port item taken ahead of its turn (at most one: the port itself is in order) */
  private early: PortItem | undefined;
  /** where items are copied out of the ring (copyOut) */
  private arena = new Uint8Array(0); // made on first use: an idle process keeps none
  private arenaAt = 0;

  constructor(sab: SharedArrayBuffer, private readonly port: MessagePort) {
    this.ctl = new Int32Array(sab, 0, DATA / 4);
    this.size = sab.byteLength - DATA;
    this.words = new Int32Array(sab, DATA, this.size / 4);
    this.bytes = new Uint8Array(sab, DATA, this.size);
    this.head = this.publishedHead = Atomics.load(this.ctl, HEAD);
  }

  /**
   * The next item in sequence, or undefined when it has not arrived. Bytes from the ring are a
   * copy (the slot is reused once the head moves; copyOut); bytes from the port arrive as the
   * Uint8Array that was transferred; objects as they were posted.
   */
  next(): unknown {
    const want = this.expect;
    const early = this.early;
    if (early !== undefined && early[0] === want) {
      this.early = undefined;
      this.expect = (want + 1) | 0;
      return early[1];
    }
    let got = this.fromRing(want);
    if (got !== undefined) return got;
    if (early !== undefined) return undefined; // the wanted item is in the ring and not visible yet
    if (Atomics.load(this.ctl, PORTED) === this.portTaken) return undefined;
    const m = receiveMessageOnPort(this.port);
    if (m === undefined) return undefined;
    this.portTaken = (this.portTaken + 1) | 0;
    const item = m.message as PortItem;
    if (item[0] === want) {
      this.expect = (want + 1) | 0;
      return item[1];
    }
    this.early = item;
    // the port item is later than the wanted one, so the wanted one was written to the ring first
    got = this.fromRing(want);
    return got;
  }

  /** True when something is waiting (in the ring or taken early from the port). */
  pending(): boolean {
    return this.early !== undefined || Atomics.load(this.ctl, TAIL) !== this.head;
  }

  /**
   * The item's bytes, copied out of the ring into the current arena: a fresh ArrayBuffer per item
   * (a backing store, external-memory accounting and a sweep for each) was a large part of the
   * per-message cost on both threads. Items share an arena, so a view kept of one item keeps
   * its arena (ARENA_BYTES) alive; large items get their own buffer.
   */
  private copyOut(at: number, len: number): Uint8Array {
    if (len > ARENA_BYTES / 4) return this.bytes.slice(at, at + len);
    let start = this.arenaAt;
    if (start + len > this.arena.length) {
      this.arena = new Uint8Array(ARENA_BYTES);
      start = 0;
    }
    const out = this.arena.subarray(start, start + len);
    out.set(this.bytes.subarray(at, at + len));
    this.arenaAt = start + pad(len);
    return out;
  }

  /**
   * Tell the writer how far we have read. Not after every item: each store pulls the cache line
   * the writer reads its free space from (on every write) to this core and back, a measured 4–5 %
   * of the kernel thread's time in the Rust pair (docs/performance.md §31). So once an eighth of
   * the ring was freed, and whenever the reader finds nothing more to take (a drain that ends,
   * a worker about to park): the writer sees at most an eighth less room than there is.
   */
  private publish(): void {
    if (this.publishedHead === this.head) return;
    this.publishedHead = this.head;
    Atomics.store(this.ctl, HEAD, this.head);
  }

  private fromRing(want: number): Uint8Array | undefined {
    const tail = Atomics.load(this.ctl, TAIL);
    let head = this.head;
    if (tail === head) return void this.publish();
    const size = this.size;
    let pos = head & (size - 1);
    if (this.words[pos >> 2] === WRAP) {
      head = (head + (size - pos)) | 0;
      pos = 0;
      this.head = head;
      if (tail === head) return void this.publish();
    }
    if (this.words[(pos >> 2) + 1] !== want) return void this.publish();
    const len = this.words[pos >> 2]!;
    const out = this.copyOut(pos + 8, len);
    this.head = (head + 8 + pad(len)) | 0;
    if (((this.head - this.publishedHead) >>> 0) >= size >>> 3) this.publish();
    this.expect = (want + 1) | 0;
    return out;
  }
}
