// The binary form of messages between a process worker and the kernel: the worker's outgoing
// messages and the kernel's batches of deliveries each travel as one Uint8Array (transferred,
// not cloned). Structured clone of the nested message objects was the largest cost of a local
// message (measured: two workers relaying through the main thread manage ~60k round trips/s
// with the objects, ~160k with one flat Uint8Array). Decoded byte fields (bodies, blobs,
// contexts) are views into the received buffer, so they are not copied again.
//
// Big blobs may travel beside the bytes instead of inside them ("with blobs", see WithBlobs):
// a blob the sender hands over (it will never read or change the bytes again, and they fill
// their own ArrayBuffer) is written as an index into a list of ArrayBuffers that the port post
// transfers, so the blob is neither copied into the encoded buffer nor copied out of it again.
// Measured on a 1 MiB vfs Write + Read pair: docs/performance.md "vfs blobs".

import type { Address, Capability, Delivery, KernelMessage, LazyLoadBlob, Message, Request, Response } from '../types.js';
import { StringCache } from '../wire/string-cache.js';
import { noteArrived } from './blob-pool.js';

const utf8 = new TextEncoder();

/** Blobs at least this big may travel beside the bytes (smaller ones are cheaper in the ring). */
export const OOB_MIN_BYTES = 32 * 1024;

/** An encoded batch whose handed-over blobs travel beside it, transferred (a port item). */
export interface WithBlobs {
  t: 'with-blobs';
  head: Uint8Array<ArrayBuffer>;
  blobs: ArrayBuffer[];
}

export const isWithBlobs = (m: unknown): m is WithBlobs => (m as WithBlobs | undefined)?.t === 'with-blobs';

/** The sender's word that it gives up `b` (never reads or changes it again). */
export type GiveUp = (b: Uint8Array) => boolean;

/** `b` fills a plain ArrayBuffer of its own and is big enough to be worth a transfer. */
function transferable(b: Uint8Array): boolean {
  return b.byteLength >= OOB_MIN_BYTES && b.byteOffset === 0 && b.buffer instanceof ArrayBuffer && b.byteLength === b.buffer.byteLength;
}

class Writer {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;
  /** for the encode under way: which blobs the sender gives up, and those taken out so far */
  giveUp: GiveUp | undefined;
  oob: ArrayBuffer[] = [];

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.len, v, true);
    this.len += 4;
  }

  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.len, v, true);
    this.len += 8;
  }

  str(s: string): void {
    const n = s.length;
    this.room(4 + n * 3);
    const at = this.len + 4;
    let i = 0;
    // ASCII, the usual case for names and JSON, byte by byte; the rest through TextEncoder
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.buf[at + i] = c;
    }
    let bytes = i;
    if (i < n) bytes += utf8.encodeInto(s.slice(i), this.buf.subarray(at + i)).written;
    this.view.setUint32(this.len, bytes, true);
    this.len = at + bytes;
  }

  /** `b` as it is (bytes already in the wire form). */
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  bytes(b: Uint8Array): void {
    this.room(4 + b.length);
    this.view.setUint32(this.len, b.length, true);
    this.buf.set(b, this.len + 4);
    this.len += 4 + b.length;
  }

  /** The bytes written, copied out (they are transferred); the writer starts over. */
  finish(): Uint8Array<ArrayBuffer> {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    if (this.buf.length > 1 << 20) {
      // a big blob went through: do not keep its room for good
      this.buf = new Uint8Array(256);
      this.view = new DataView(this.buf.buffer);
    }
    return out;
  }

  /**
   * The bytes written, as a view of the writer's buffer (no copy): valid until the next encode on
   * this thread, for a caller that copies them at once (into a ring). The writer starts over.
   */
  borrow(): Uint8Array<ArrayBuffer> {
    const out = this.buf.subarray(0, this.len);
    this.len = 0;
    if (this.buf.length > 1 << 20) {
      // the view keeps the big buffer alive only as long as the caller holds it
      this.buf = new Uint8Array(256);
      this.view = new DataView(this.buf.buffer);
    }
    return out;
  }
}

/** Short strings (the names in every address) repeat on every message: decoded through a cache, per thread. */
const names = new StringCache(1024, 63);

/**
 * The addresses of deliveries (source, target, rsvp) repeat on every message a worker receives:
 * read through a direct-mapped cache keyed by their encoded bytes, so a hit makes no strings and
 * no objects. A cached Address is shared by every delivery that names it: the worker only reads
 * them (ProcessHost, the glue's lowering). The kernel's decodeOutgoing does not use it.
 */
class AddressCache {
  private readonly keys: Array<Uint8Array | undefined>;
  private readonly values: Array<Address | undefined>;
  private readonly mask: number;

  constructor(size: number) {
    this.keys = new Array<Uint8Array | undefined>(size).fill(undefined);
    this.values = new Array<Address | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  read(r: Reader): Address {
    const start = r.at;
    const end = r.skipStrings(4);
    const buf = r.buf;
    const n = end - start;
    if (n > 256) return rAddress(r);
    // the hash covers the process name (the part that differs most) and the length; the compare
    // below covers every byte
    const nameAt = start + 8 + r.u32At(start);
    const nameEnd = Math.min(nameAt + r.u32At(nameAt - 4), end);
    let h = n;
    for (let i = nameAt; i < nameEnd; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    const slot = (h ^ (h >>> 11)) & this.mask;
    const key = this.keys[slot];
    if (key !== undefined && key.length === n) {
      let i = 0;
      while (i < n && key[i] === buf[start + i]) i++;
      if (i === n) {
        r.at = end;
        return this.values[slot]!;
      }
    }
    const a = rAddress(r);
    this.keys[slot] = buf.slice(start, end);
    this.values[slot] = a;
    return a;
  }
}

const addresses = new AddressCache(256);

/** One writer per thread, reused: encoding is synchronous and never nested. */
const writer = new Writer();

/** Buffers up to this size share one DataView per thread while they come in a row (viewOf). */
const VIEW_CACHE_MAX = 64 * 1024;
let viewBuffer: ArrayBufferLike | undefined;
let viewOfBuffer: DataView | undefined;

/**
 * A DataView of the whole of `b`. Items copied out of a ring share an arena (ring.ts), so a run of
 * them reuses one view instead of making one per item; a big buffer gets its own (the cache would
 * keep it alive).
 */
function viewOf(b: ArrayBufferLike): DataView {
  if (b === viewBuffer) return viewOfBuffer!;
  const v = new DataView(b);
  if (b.byteLength <= VIEW_CACHE_MAX) {
    viewBuffer = b;
    viewOfBuffer = v;
  }
  return v;
}

class Reader {
  private readonly view: DataView;
  /** where `buf` starts in the view */
  private readonly base: number;
  at = 0;

  constructor(
    readonly buf: Uint8Array,
    /** the blobs that travelled beside `buf` */
    readonly oob: ArrayBuffer[] = [],
  ) {
    this.view = viewOf(buf.buffer);
    this.base = buf.byteOffset;
  }

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  u8(): number {
    return this.buf[this.at++]!;
  }

  u32(): number {
    const v = this.view.getUint32(this.base + this.at, true);
    this.at += 4;
    return v;
  }

  u64(): bigint {
    const v = this.view.getBigUint64(this.base + this.at, true);
    this.at += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    const start = this.at;
    this.at += n;
    return names.text(this.buf, start, start + n);
  }

  /** The u32 at `at` (at stays). */
  u32At(at: number): number {
    return this.view.getUint32(this.base + at, true);
  }

  /** The position just past the next `count` strings, without reading them (at stays). */
  skipStrings(count: number): number {
    let at = this.at;
    for (let i = 0; i < count; i++) at += 4 + this.view.getUint32(this.base + at, true);
    if (at > this.buf.length) throw new RangeError('message codec: a string runs past the end of the bytes');
    return at;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
}

// ---- the WIT values

/** An address written lately, by its four strings, with its encoded bytes. */
interface WrittenAddress {
  node: string;
  processName: string;
  packageName: string;
  publisherNode: string;
  bytes: Uint8Array;
}

/**
 * The last few addresses written on this thread: a message names the same few addresses over
 * and over (a worker's peers; the kernel's sources and targets), and copying their encoded bytes
 * costs less than encoding four strings again. Compared by the strings themselves (the lifted and
 * decoded names are mostly the same string objects, which compare at once).
 */
const written: WrittenAddress[] = [];
const WRITTEN_MAX = 4;
let writtenNext = 0;

function wAddress(w: Writer, a: Address): void {
  const node = a.node;
  const p = a.process;
  const processName = p.processName;
  const packageName = p.packageName;
  const publisherNode = p.publisherNode;
  for (let i = 0; i < written.length; i++) {
    const e = written[i]!;
    if (e.processName === processName && e.node === node && e.packageName === packageName && e.publisherNode === publisherNode) {
      w.raw(e.bytes);
      return;
    }
  }
  const start = w.len;
  w.str(node);
  w.str(processName);
  w.str(packageName);
  w.str(publisherNode);
  if (w.len - start > 256) return;
  const entry = { node, processName, packageName, publisherNode, bytes: w.buf.slice(start, w.len) };
  if (written.length < WRITTEN_MAX) written.push(entry);
  else written[writtenNext] = entry;
  writtenNext = (writtenNext + 1) % WRITTEN_MAX;
}

function rAddress(r: Reader): Address {
  const node = r.str();
  return { node, process: { processName: r.str(), packageName: r.str(), publisherNode: r.str() } };
}

function wOptStr(w: Writer, s: string | undefined): void {
  if (s === undefined) return w.u8(0);
  w.u8(1);
  w.str(s);
}

function rOptStr(r: Reader): string | undefined {
  return r.u8() === 0 ? undefined : r.str();
}

function wOptBytes(w: Writer, b: Uint8Array | undefined): void {
  if (b === undefined) return w.u8(0);
  w.u8(1);
  w.bytes(b);
}

function rOptBytes(r: Reader): Uint8Array | undefined {
  return r.u8() === 0 ? undefined : r.bytes();
}

function wCaps(w: Writer, caps: Capability[]): void {
  w.u32(caps.length);
  for (const c of caps) {
    wAddress(w, c.issuer);
    w.str(c.params);
  }
}

function rCaps(r: Reader): Capability[] {
  const n = r.u32();
  const caps: Capability[] = [];
  for (let i = 0; i < n; i++) caps.push({ issuer: rAddress(r), params: r.str() });
  return caps;
}

function wRequest(w: Writer, q: Request): void {
  w.u8(q.inherit ? 1 : 0);
  if (q.expectsResponse === undefined) {
    w.u8(0);
  } else {
    w.u8(1);
    w.u64(q.expectsResponse);
  }
  w.bytes(q.body);
  wOptStr(w, q.metadata);
  wCaps(w, q.capabilities);
}

function rRequest(r: Reader): Request {
  const inherit = r.u8() === 1;
  const expectsResponse = r.u8() === 1 ? r.u64() : undefined;
  return { inherit, expectsResponse, body: r.bytes(), metadata: rOptStr(r), capabilities: rCaps(r) };
}

function wResponse(w: Writer, p: Response): void {
  w.u8(p.inherit ? 1 : 0);
  w.bytes(p.body);
  wOptStr(w, p.metadata);
  wCaps(w, p.capabilities);
}

function rResponse(r: Reader): Response {
  const inherit = r.u8() === 1;
  return { inherit, body: r.bytes(), metadata: rOptStr(r), capabilities: rCaps(r) };
}

function wMessage(w: Writer, m: Message): void {
  if (m.tag === 'request') {
    w.u8(0);
    wRequest(w, m.val);
  } else {
    w.u8(1);
    wResponse(w, m.val[0]);
    wOptBytes(w, m.val[1]);
  }
}

function rMessage(r: Reader): Message {
  if (r.u8() === 0) return { tag: 'request', val: rRequest(r) };
  const response = rResponse(r);
  return { tag: 'response', val: [response, rOptBytes(r)] };
}

/** Tag 0: none; 1: the bytes inline; 2: the index of a transferred ArrayBuffer (WithBlobs). */
function wBlob(w: Writer, b: LazyLoadBlob | undefined): void {
  if (b === undefined) return w.u8(0);
  const give = w.giveUp !== undefined && transferable(b.bytes) && w.giveUp(b.bytes);
  w.u8(give ? 2 : 1);
  wOptStr(w, b.mime);
  if (!give) return w.bytes(b.bytes);
  // a buffer can be transferred once: the same blob twice in one batch shares its index
  let i = w.oob.indexOf(b.bytes.buffer as ArrayBuffer);
  if (i < 0) i = w.oob.push(b.bytes.buffer as ArrayBuffer) - 1;
  w.u32(i);
}

function rBlob(r: Reader): LazyLoadBlob | undefined {
  const tag = r.u8();
  if (tag === 0) return undefined;
  const mime = rOptStr(r);
  if (tag === 1) return { mime, bytes: r.bytes() };
  const buf = r.oob[r.u32()];
  if (buf === undefined) throw new Error('message codec: a blob travelled without its buffer');
  noteArrived(buf); // a receiver that lets go of the blob may reuse its buffer (blob-pool.ts)
  return { mime, bytes: new Uint8Array(buf) };
}

function wOptAddress(w: Writer, a: Address | undefined): void {
  if (a === undefined) return w.u8(0);
  w.u8(1);
  wAddress(w, a);
}

/** A message without its source (the kernel fills that in for processes). */
function wOutgoing(w: Writer, km: Omit<KernelMessage, 'source'>): void {
  w.u64(km.id);
  wAddress(w, km.target);
  wOptAddress(w, km.rsvp);
  wMessage(w, km.message);
  wBlob(w, km.lazyLoadBlob);
}

function rOutgoing(r: Reader): Omit<KernelMessage, 'source'> {
  const id = r.u64();
  // through the address cache, as deliveries are: a sender names the same few targets (and
  // itself as rsvp) over and over; the Address objects are shared and never changed
  const target = addresses.read(r);
  const rsvp = r.u8() === 0 ? undefined : addresses.read(r);
  const message = rMessage(r);
  return { id, target, rsvp, message, lazyLoadBlob: rBlob(r) };
}

// ---- worker -> kernel: outgoing messages

export function encodeOutgoing(items: Array<Omit<KernelMessage, 'source'>>): Uint8Array<ArrayBuffer> {
  const w = writer;
  for (const km of items) wOutgoing(w, km);
  return w.finish();
}

/**
 * Encode with the blobs `giveUp` agrees to hand over taken out. None was: the bytes as a view
 * (as Writer.borrow; send them as usual). Else the batch as a port item, its head copied out,
 * to post with `blobs` transferred; after that post the given-up blobs are detached (empty) in
 * the sender.
 */
function withBlobs(giveUp: GiveUp, write: (w: Writer) => void): Uint8Array<ArrayBuffer> | WithBlobs {
  startParts(giveUp);
  try {
    write(writer);
  } finally {
    writer.giveUp = undefined;
  }
  return endParts();
}

// the two halves of withBlobs, for the per-message send path (no closure per call); the oob
// list is made only when a blob is handed over (an empty one is kept between encodes)
function startParts(giveUp: GiveUp): void {
  writer.giveUp = giveUp;
  if (writer.oob.length !== 0) writer.oob = [];
}

/** An encode that failed half-way: nothing of it stays in the writer. */
function dropParts(): void {
  writer.giveUp = undefined;
  writer.len = 0;
  writer.oob = [];
}

function endParts(): Uint8Array<ArrayBuffer> | WithBlobs {
  const w = writer;
  w.giveUp = undefined;
  if (w.oob.length === 0) return w.borrow();
  const blobs = w.oob;
  w.oob = [];
  return { t: 'with-blobs', head: w.finish(), blobs };
}

/** encodeOutgoing as a view valid until the next encode, with big handed-over blobs beside the bytes (withBlobs). */
export function encodeOutgoingParts(items: Array<Omit<KernelMessage, 'source'>>, giveUp: GiveUp): Uint8Array<ArrayBuffer> | WithBlobs {
  startParts(giveUp);
  try {
    for (let i = 0; i < items.length; i++) wOutgoing(writer, items[i]!);
  } catch (e) {
    dropParts();
    throw e;
  }
  return endParts();
}

export function decodeOutgoing(buf: Uint8Array, blobs?: ArrayBuffer[]): Array<Omit<KernelMessage, 'source'>> {
  const r = new Reader(buf, blobs);
  const items: Array<Omit<KernelMessage, 'source'>> = [];
  while (!r.done) items.push(rOutgoing(r));
  return items;
}

// ---- kernel -> worker: a batch of deliveries

export function encodeDeliveries(batch: Delivery[]): Uint8Array<ArrayBuffer> {
  writeDeliveries(batch);
  return writer.finish();
}

/** Like encodeDeliveries, but a view valid only until the next encode (Writer.borrow). */
export function encodeDeliveriesView(batch: Delivery[]): Uint8Array<ArrayBuffer> {
  writeDeliveries(batch);
  return writer.borrow();
}

/** One message as a one-delivery batch (a lane's item, process/lanes.ts), as encodeOutgoingParts: no closure or list per call. */
export function encodeDeliveryParts(km: KernelMessage, giveUp: GiveUp): Uint8Array<ArrayBuffer> | WithBlobs {
  startParts(giveUp);
  try {
    wDelivered(writer, km);
  } catch (e) {
    dropParts();
    throw e;
  }
  return endParts();
}

/** encodeDeliveriesView, with big handed-over blobs beside the bytes (withBlobs). */
export function encodeDeliveriesParts(batch: Delivery[], giveUp: GiveUp): Uint8Array<ArrayBuffer> | WithBlobs {
  return withBlobs(giveUp, () => writeDeliveries(batch));
}

/** A delivery of a message: its source, then the message as its sender wrote it. */
function wDelivered(w: Writer, km: KernelMessage): void {
  w.u8(0);
  wAddress(w, km.source);
  wOutgoing(w, km);
}

function writeDeliveries(batch: Delivery[]): void {
  const w = writer;
  for (const d of batch) {
    if (d.kind === 'message') {
      wDelivered(w, d.km);
    } else {
      w.u8(1);
      w.u64(d.id);
      w.u8(d.error.kind === 'offline' ? 1 : 0);
      wAddress(w, d.error.target);
      wMessage(w, d.error.message);
      wBlob(w, d.error.lazyLoadBlob);
    }
  }
}

/** A delivery batch as it came out of a ring: bytes, or bytes with their blobs beside them. */
export function decodeDeliveryItem(m: Uint8Array | WithBlobs): Delivery[] {
  return isWithBlobs(m) ? decodeDeliveries(m.head, m.blobs) : decodeDeliveries(m);
}

export function decodeDeliveries(buf: Uint8Array, blobs?: ArrayBuffer[]): Delivery[] {
  const r = new Reader(buf, blobs);
  const out: Delivery[] = [];
  while (!r.done) {
    if (r.u8() === 0) {
      // one object (a spread of rOutgoing's made and dropped another per message)
      const source = addresses.read(r);
      const id = r.u64();
      const target = addresses.read(r);
      const rsvp = r.u8() === 0 ? undefined : addresses.read(r);
      const message = rMessage(r);
      out.push({ kind: 'message', km: { source, id, target, rsvp, message, lazyLoadBlob: rBlob(r) } });
    } else {
      const id = r.u64();
      const kind = r.u8() === 1 ? 'offline' : 'timeout';
      const target = rAddress(r);
      const message = rMessage(r);
      out.push({ kind: 'error', id, error: { kind, target, message, lazyLoadBlob: rBlob(r) } });
    }
  }
  return out;
}
