// The binary form of messages between a process worker and the kernel: the worker's outgoing
// messages and the kernel's batches of deliveries each travel as one Uint8Array (transferred,
// not cloned). Structured clone of the nested message objects was the largest cost of a local
// message (measured: two workers relaying through the main thread manage ~60k round trips/s
// with the objects, ~160k with one flat Uint8Array). Decoded byte fields (bodies, blobs,
// contexts) are views into the received buffer, so they are not copied again.

import type { Address, Capability, Delivery, KernelMessage, LazyLoadBlob, Message, Request, Response } from '../types.js';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

class Writer {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

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

/** Slots of the decoder's cache of short strings (a power of two; direct-mapped, per thread). */
const STR_CACHE = 1024;
const strCache: Array<string | undefined> = new Array<string | undefined>(STR_CACHE).fill(undefined);

/** One writer per thread, reused: encoding is synchronous and never nested. */
const writer = new Writer();

class Reader {
  private readonly view: DataView;
  at = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  u8(): number {
    return this.buf[this.at++]!;
  }

  u32(): number {
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  u64(): bigint {
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    const start = this.at;
    this.at += n;
    if (n >= 64) return utf8Decoder.decode(this.buf.subarray(start, start + n));
    // short strings are names (node, process, package, publisher) and repeat on every message:
    // taken from a small cache when the bytes match, so decoding an address allocates nothing
    const buf = this.buf;
    const end = start + n;
    let h = n;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    const slot = (h ^ (h >>> 9)) & (STR_CACHE - 1);
    const hit = strCache[slot];
    if (hit !== undefined && hit.length === n) {
      let i = 0;
      while (i < n && hit.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return hit;
    }
    const s = utf8Decoder.decode(buf.subarray(start, end));
    // only ASCII strings are kept: their length is their byte count, so the match above is exact
    if (s.length === n) strCache[slot] = s;
    return s;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
}

// ---- the WIT values

function wAddress(w: Writer, a: Address): void {
  w.str(a.node);
  w.str(a.process.processName);
  w.str(a.process.packageName);
  w.str(a.process.publisherNode);
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

function wBlob(w: Writer, b: LazyLoadBlob | undefined): void {
  if (b === undefined) return w.u8(0);
  w.u8(1);
  wOptStr(w, b.mime);
  w.bytes(b.bytes);
}

function rBlob(r: Reader): LazyLoadBlob | undefined {
  if (r.u8() === 0) return undefined;
  const mime = rOptStr(r);
  return { mime, bytes: r.bytes() };
}

function wOptAddress(w: Writer, a: Address | undefined): void {
  if (a === undefined) return w.u8(0);
  w.u8(1);
  wAddress(w, a);
}

function rOptAddress(r: Reader): Address | undefined {
  return r.u8() === 0 ? undefined : rAddress(r);
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
  const target = rAddress(r);
  const rsvp = rOptAddress(r);
  const message = rMessage(r);
  return { id, target, rsvp, message, lazyLoadBlob: rBlob(r) };
}

// ---- worker -> kernel: outgoing messages

export function encodeOutgoing(items: Array<Omit<KernelMessage, 'source'>>): Uint8Array<ArrayBuffer> {
  const w = writer;
  for (const km of items) wOutgoing(w, km);
  return w.finish();
}

/** Like encodeOutgoing, but a view valid only until the next encode (Writer.borrow). */
export function encodeOutgoingView(items: Array<Omit<KernelMessage, 'source'>>): Uint8Array<ArrayBuffer> {
  const w = writer;
  for (const km of items) wOutgoing(w, km);
  return w.borrow();
}

export function decodeOutgoing(buf: Uint8Array): Array<Omit<KernelMessage, 'source'>> {
  const r = new Reader(buf);
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

function writeDeliveries(batch: Delivery[]): void {
  const w = writer;
  for (const d of batch) {
    if (d.kind === 'message') {
      w.u8(0);
      wAddress(w, d.km.source);
      wOutgoing(w, d.km);
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

export function decodeDeliveries(buf: Uint8Array): Delivery[] {
  const r = new Reader(buf);
  const out: Delivery[] = [];
  while (!r.done) {
    if (r.u8() === 0) {
      const source = rAddress(r);
      out.push({ kind: 'message', km: { source, ...rOutgoing(r) } });
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
