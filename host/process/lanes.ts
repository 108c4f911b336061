// The worker's lanes: one-way paths from this process's worker straight into a peer's worker,
// which the kernel opens between two processes that message each other often
// (kernel/lane-broker.ts). A message over a lane costs no hop through the main thread: the
// kernel thread was the bound of a local request/response pair (docs/performance.md §35).
//
// The kernel stays the authority. It opens a lane only after it routed messages between the pair
// itself; it tells the writer in the lane's cells whether it may send requests (its messaging
// capability; responses always may), closes lanes while an observer listens, and marks a lane
// whose reader or writer instance is gone. What a lane cannot carry goes through the kernel as
// before, and the lane ends first: a message with capabilities attached (the kernel filters
// them), a request the writer may no longer send, a peer whose mailbox bound the lane reached
// (the kernel then refuses as it does for any full mailbox), a lane the kernel closed.
//
// Order per sender and receiver is kept: while a lane to a peer is open, everything to that peer
// goes over it; the lane's end mark is its last item, and everything after goes through the
// kernel. The reader starts reading a lane only when the kernel says so, in sequence after what
// the writer sent before it took the lane; and it takes whatever is left in a lane from a peer
// before a message from that peer that came through the kernel.
//
// The writer times its own requests that expect a response (lane-timers.ts).

import type { Address, Delivery, KernelMessage, ProcessId } from '../types.js';
import { pidStr, samePid } from '../kernel/address.js';
import { decodeDeliveryItem, encodeDeliveryParts, type GiveUp, type WithBlobs } from './message-codec.js';
import { OPEN, READER_GONE, REQUESTS, STATE, TAKEN_BYTES, TAKEN_MESSAGES, WRITER_GONE } from './lane-cells.js';
import { LaneTimers } from './lane-timers.js';
import { RingReceiver, RingSender } from './ring.js';
import { wake } from './park.js';
import type { KernelControl, WorkerToKernel } from './wire-protocol.js';

/** The lane's last item: nothing follows it. */
const END = { t: 'lane-end' };
const isEnd = (m: unknown): boolean => (m as { t?: unknown }).t === 'lane-end';
/** messages one look takes from a lane at most (the process sees other lanes' and the kernel's between) */
const TAKE_AT_ONCE = 64;

interface OutLane {
  id: number;
  peer: ProcessId;
  tx: RingSender;
  ctl: Int32Array;
  peerCell: Int32Array;
  maxMessages: number;
  maxBytes: number;
  /** messages and bytes written so far, and taken as last read from the cells */
  written: number;
  writtenBytes: number;
  taken: number;
  takenBytes: number;
}

interface InLane {
  peer: ProcessId;
  rx: RingReceiver;
  ctl: Int32Array;
  /** an end mark read while taking a run of items: the next look finds it */
  held: unknown;
}

const sizeOf = (m: Uint8Array | WithBlobs): number => {
  if (m instanceof Uint8Array) return m.length;
  let n = m.head.length;
  for (const b of m.blobs) n += b.byteLength;
  return n;
};

const hasRoom = (lane: OutLane): boolean =>
  lane.written - lane.taken < lane.maxMessages && ((lane.writtenBytes - lane.takenBytes) | 0) < lane.maxBytes;

export class Lanes {
  /** by peer (a few at most: a list, which a send searches without building a key) */
  private out: OutLane[] = [];
  /** lanes into us, per peer oldest first (a peer's new instance may open one while an old one still holds items) */
  private readonly into = new Map<string, InLane[]>();
  readonly timers = new LaneTimers();

  constructor(
    private readonly our: Address,
    private readonly post: (m: WorkerToKernel) => void,
  ) {}

  /** Any lane, either way: the link then routes and polls through here. */
  get hasOut(): boolean {
    return this.out.length !== 0;
  }

  get hasIn(): boolean {
    return this.into.size !== 0;
  }

  accept(c: KernelControl): void {
    const ctl = new Int32Array(c.ctl);
    if (c.t === 'lane-offer') {
      const old = this.find(c.peer.process);
      if (old) this.end(old);
      if (Atomics.load(ctl, STATE) !== OPEN) {
        this.post({ t: 'lane-ended', id: c.id });
        return;
      }
      this.out.push({
        id: c.id,
        peer: c.peer.process,
        tx: new RingSender(c.ring, c.port),
        ctl,
        peerCell: new Int32Array(c.peerSignal),
        maxMessages: c.maxMessages,
        maxBytes: c.maxBytes,
        written: 0,
        writtenBytes: 0,
        taken: 0,
        takenBytes: 0,
      });
      this.post({ t: 'lane-adopt', id: c.id });
      return;
    }
    const lane: InLane = { peer: c.peer.process, rx: new RingReceiver(c.ring, c.port), ctl, held: undefined };
    const key = pidStr(c.peer.process);
    const list = this.into.get(key);
    if (list) list.push(lane);
    else this.into.set(key, [lane]);
  }

  /**
   * Send `item` over the lane to its target, if there is one that can take it; false: it goes
   * through the kernel (and a lane to that target, if any, has ended).
   */
  trySend(item: Omit<KernelMessage, 'source'>, giveUp: GiveUp): boolean {
    const target = item.target;
    if (target.node !== this.our.node && target.node !== 'our') return false;
    const lane = this.find(target.process);
    if (!lane) return false;
    const m = item.message;
    const request = m.tag === 'request' ? m.val : undefined;
    const caps = m.tag === 'request' ? m.val.capabilities : m.val[0].capabilities;
    if (
      Atomics.load(lane.ctl, STATE) !== OPEN ||
      caps.length !== 0 ||
      (request && Atomics.load(lane.ctl, REQUESTS) === 0) ||
      this.full(lane)
    ) {
      this.end(lane);
      return false;
    }
    const timed = request !== undefined && request.expectsResponse !== undefined;
    const blob = item.lazyLoadBlob;
    const km: KernelMessage = {
      id: item.id,
      source: this.our,
      target: target.node === 'our' ? { node: this.our.node, process: target.process } : target,
      rsvp: item.rsvp,
      message: m,
      lazyLoadBlob: blob,
    };
    // a timed request's blob stays here for its timeout error (the kernel keeps it likewise)
    const enc = encodeDeliveryParts(km, timed && blob ? (b) => b !== blob.bytes && giveUp(b) : giveUp);
    lane.written++;
    lane.writtenBytes = (lane.writtenBytes + sizeOf(enc)) | 0;
    if (enc instanceof Uint8Array) lane.tx.sendBytes(enc);
    else lane.tx.sendObject(enc, [enc.head.buffer, ...enc.blobs]);
    if (timed) this.timers.start(item.id, request!, blob, target);
    wake(lane.peerCell);
    return true;
  }

  /**
   * Has the lane as many messages or bytes not yet taken as the peer's mailbox may hold? The
   * reader's counts are read only when the ones last read say so.
   */
  private full(lane: OutLane): boolean {
    if (hasRoom(lane)) return false;
    lane.taken = Atomics.load(lane.ctl, TAKEN_MESSAGES);
    lane.takenBytes = Atomics.load(lane.ctl, TAKEN_BYTES);
    return !hasRoom(lane);
  }

  private find(peer: ProcessId): OutLane | undefined {
    const out = this.out;
    for (let i = 0; i < out.length; i++) if (samePid(out[i]!.peer, peer)) return out[i];
    return undefined;
  }

  /** Stop writing to `lane`: its end mark follows the last item (the reader needs no mark once it is gone). */
  private end(lane: OutLane): void {
    this.out = this.out.filter((l) => l !== lane);
    if (Atomics.load(lane.ctl, STATE) !== READER_GONE) {
      lane.tx.sendObject(END);
      wake(lane.peerCell);
    }
    this.post({ t: 'lane-ended', id: lane.id });
  }

  /** The next item of any lane into us (decoded), or undefined. */
  poll(): Delivery[] | undefined {
    for (const [key, list] of this.into) {
      const got = this.takeFrom(key, list);
      if (got !== undefined) return got;
    }
    return undefined;
  }

  /** What a peer's oldest lane holds now (up to TAKE_AT_ONCE messages); lanes that are over are let go. */
  private takeFrom(key: string, list: InLane[]): Delivery[] | undefined {
    for (;;) {
      const lane = list[0];
      if (lane === undefined) {
        this.into.delete(key);
        return undefined;
      }
      let m = lane.held ?? lane.rx.next();
      lane.held = undefined;
      if (m === undefined) {
        // a writer that is gone writes no end mark: what it left is all there is
        if (Atomics.load(lane.ctl, STATE) !== WRITER_GONE || lane.rx.pending()) return undefined;
        list.shift();
        continue;
      }
      if (isEnd(m)) {
        list.shift();
        continue;
      }
      // everything there is now, in one go: one count of what was taken for the writer
      const out: Delivery[] = [];
      let bytes = 0;
      for (;;) {
        const enc = m as Uint8Array | WithBlobs;
        for (const d of decodeDeliveryItem(enc)) out.push(d);
        bytes += sizeOf(enc);
        if (out.length >= TAKE_AT_ONCE) break;
        m = lane.rx.next();
        if (m === undefined) break;
        if (isEnd(m)) {
          lane.held = m;
          break;
        }
      }
      Atomics.add(lane.ctl, TAKEN_MESSAGES, out.length);
      Atomics.add(lane.ctl, TAKEN_BYTES, bytes);
      return out;
    }
  }

  /**
   * A batch the kernel delivered, in the order the process must see it: a message from a peer
   * with lanes into us comes after everything those lanes still hold (its writer put that there
   * before it sent this through the kernel).
   */
  order(batch: Delivery[]): Delivery[] {
    let out: Delivery[] | undefined;
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i]!;
      const before = d.kind === 'message' ? this.drainFrom(d.km.source.process) : undefined;
      if (before === undefined) {
        out?.push(d);
        continue;
      }
      out ??= batch.slice(0, i);
      for (const x of before) out.push(x);
      out.push(d);
    }
    return out ?? batch;
  }

  /** Everything left in the lanes from `peer`, in order (undefined: none, or no lane from it). */
  private drainFrom(peer: ProcessId): Delivery[] | undefined {
    for (const [key, list] of this.into) {
      if (!samePid(list[0]!.peer, peer)) continue;
      let all: Delivery[] | undefined;
      for (let ds = this.takeFrom(key, list); ds !== undefined; ds = this.takeFrom(key, list)) {
        all ??= [];
        for (const d of ds) all.push(d);
      }
      // takeFrom went on past each end mark into the peer's next lane: all of them are empty now
      return all;
    }
    return undefined;
  }

  /** A delivery reached the process: a response or error for a lane request ends its timer. */
  settled(d: Delivery): void {
    if (d.kind === 'error') this.timers.take(d.id);
    else if (d.km.message.tag === 'response') this.timers.take(d.km.id);
  }
}

