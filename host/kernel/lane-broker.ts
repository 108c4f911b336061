// The kernel's side of lanes (process/lanes.ts): which pairs of processes get one, and keeping
// each lane's cells true. A lane is offered to a process once the kernel has routed LANE_AFTER
// messages from it to one other process instance; the writer takes it (lane-adopt, in sequence
// after everything it sent before), and only then is the reader told to read it, after every
// delivery the kernel made to it before. The broker never sees a message that goes over a lane:
// what the kernel checks per message is set in the cells instead (REQUESTS: may the writer
// message the reader; STATE: an observer listens, or an end's instance is gone).

import { MessageChannel } from 'node:worker_threads';
import { newRing } from '../process/ring.js';
import { CLOSING, LANE_CTL_BYTES, OPEN, READER_GONE, REQUESTS, STATE, WRITER_GONE } from '../process/lane-cells.js';
import type { MailboxLimits, ProcessSlot } from './process-slot.js';
import type { ProcessRecord } from './process-table.js';

/** Messages the kernel routes from one instance to another before it offers them a lane. */
export const LANE_AFTER = 32;
/** Lanes one instance may write or read at once (each holds a ring of shared memory). */
const LANES_PER_INSTANCE = 8;

interface Lane {
  id: number;
  writer: ProcessRecord;
  writerSlot: ProcessSlot;
  reader: ProcessRecord;
  readerSlot: ProcessSlot;
  ring: SharedArrayBuffer;
  ctlBuffer: SharedArrayBuffer;
  ctl: Int32Array;
  channel: MessageChannel;
  adopted: boolean;
}

export class LaneBroker {
  private lastId = 0;
  private readonly byId = new Map<number, Lane>();
  /** per writer instance: messages routed to each reader instance, or -1 while they have a lane */
  private readonly routedCount = new Map<ProcessSlot, Map<ProcessSlot, number>>();
  private readonly ofSlot = new Map<ProcessSlot, Set<Lane>>();
  /** off while an observer listens (setEnabled) */
  private enabled = true;

  constructor(
    /** false: never a lane (the node's `lanes` option) */
    private readonly allowed: boolean,
    private readonly limits: MailboxLimits,
    /** may `writer` send requests to `reader` (its messaging capability, or a public reader)? */
    private readonly mayRequest: (writer: ProcessRecord, reader: ProcessRecord) => boolean,
  ) {}

  /** Lanes offered or open now (tests look). */
  get size(): number {
    return this.byId.size;
  }

  /** The kernel delivered a message from process `from` to process `to`. */
  routed(from: ProcessRecord, to: ProcessRecord): void {
    if (!this.enabled || !this.allowed) return;
    const w = from.slot;
    const r = to.slot;
    // an ended instance's last words (on-exit requests) count for nothing, and leave no entry behind
    if (w.isEnded) return;
    let counts = this.routedCount.get(w);
    if (!counts) this.routedCount.set(w, (counts = new Map()));
    const n = counts.get(r) ?? 0;
    if (n < 0) return;
    if (n + 1 < LANE_AFTER || w === r) {
      counts.set(r, n + 1);
      return;
    }
    if (!w.started || !r.started || r.isEnded) return;
    if ((this.ofSlot.get(w)?.size ?? 0) >= LANES_PER_INSTANCE || (this.ofSlot.get(r)?.size ?? 0) >= LANES_PER_INSTANCE) return;
    counts.set(r, -1);
    this.offer(from, to);
  }

  private offer(writer: ProcessRecord, reader: ProcessRecord): void {
    const ctlBuffer = new SharedArrayBuffer(LANE_CTL_BYTES);
    const ctl = new Int32Array(ctlBuffer);
    Atomics.store(ctl, REQUESTS, this.mayRequest(writer, reader) ? 1 : 0);
    const lane: Lane = {
      id: ++this.lastId,
      writer,
      writerSlot: writer.slot,
      reader,
      readerSlot: reader.slot,
      ring: newRing(),
      ctlBuffer,
      ctl,
      channel: new MessageChannel(),
      adopted: false,
    };
    this.byId.set(lane.id, lane);
    this.note(lane.writerSlot, lane);
    this.note(lane.readerSlot, lane);
    const port = lane.channel.port1;
    lane.writerSlot.control(
      {
        t: 'lane-offer',
        id: lane.id,
        peer: reader.address,
        ring: lane.ring,
        ctl: ctlBuffer,
        port,
        peerSignal: reader.slot.signalBuffer,
        // an eighth of the reader's bound per lane: with the kernel's own share, a mailbox holds
        // at most twice its bound however many lanes lead into it
        maxMessages: Math.max(1, Math.floor(this.limits.maxMessages / LANES_PER_INSTANCE)),
        maxBytes: Math.max(1, Math.floor(Math.min(this.limits.maxBytes / LANES_PER_INSTANCE, 2 ** 31 - 1))),
      },
      [port],
    );
  }

  private note(slot: ProcessSlot, lane: Lane): void {
    let set = this.ofSlot.get(slot);
    if (!set) this.ofSlot.set(slot, (set = new Set()));
    set.add(lane);
  }

  /** The writer took lane `id`: its reader reads it from here on. */
  adopted(slot: ProcessSlot, id: number): void {
    const lane = this.byId.get(id);
    if (!lane || lane.writerSlot !== slot || lane.adopted) return;
    lane.adopted = true;
    const port = lane.channel.port2;
    // a closing lane is still handed over: the writer may have written to it before it saw the state
    lane.readerSlot.control({ t: 'lane-open', id, peer: lane.writer.address, ring: lane.ring, ctl: lane.ctlBuffer, port }, [port]);
  }

  /** The writer stopped writing to lane `id`. */
  ended(slot: ProcessSlot, id: number): void {
    const lane = this.byId.get(id);
    if (lane && lane.writerSlot === slot) this.forget(lane);
  }

  /** An instance is over: its lanes' other ends learn it from the cells. */
  slotGone(slot: ProcessSlot): void {
    const set = this.ofSlot.get(slot);
    this.routedCount.delete(slot);
    for (const counts of this.routedCount.values()) counts.delete(slot);
    if (!set) return;
    for (const lane of [...set]) {
      Atomics.store(lane.ctl, STATE, lane.writerSlot === slot ? WRITER_GONE : READER_GONE);
      this.forget(lane);
    }
    this.ofSlot.delete(slot);
  }

  /** Lanes carry nothing the kernel sees: while an observer listens, there are none. */
  setEnabled(on: boolean): void {
    this.enabled = on;
    if (on) return;
    for (const lane of this.byId.values()) Atomics.compareExchange(lane.ctl, STATE, OPEN, CLOSING);
  }

  /** Capabilities changed: may each writer still send requests to its reader? */
  recheck(): void {
    for (const lane of this.byId.values()) Atomics.store(lane.ctl, REQUESTS, this.mayRequest(lane.writer, lane.reader) ? 1 : 0);
  }

  private forget(lane: Lane): void {
    this.byId.delete(lane.id);
    this.ofSlot.get(lane.writerSlot)?.delete(lane);
    this.ofSlot.get(lane.readerSlot)?.delete(lane);
    // the pair may get a lane again after as many messages through the kernel
    const counts = this.routedCount.get(lane.writerSlot);
    if (counts?.get(lane.readerSlot) === -1) counts.set(lane.readerSlot, 0);
    if (!lane.adopted) lane.channel.port2.close();
  }
}
