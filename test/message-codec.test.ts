// The worker <-> kernel binary message form (host/process/message-codec.ts): every shape a
// process can send or receive comes back out exactly as it went in.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import {
  decodeDeliveries,
  decodeOutgoing,
  encodeDeliveries,
  encodeDeliveriesParts,
  encodeOutgoing,
  encodeOutgoingParts,
  isWithBlobs,
  OOB_MIN_BYTES,
} from '../host/process/message-codec.js';
import type { Address, Delivery, KernelMessage } from '../host/types.js';
import { enc } from './helpers.js';

const addr = (node: string, processName: string): Address => ({ node, process: { processName, packageName: 'pkg', publisherNode: 'pub.os' } });
/** decoded byte fields are views; compare them as plain arrays */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? [...x] : typeof x === 'bigint' ? `${x}n` : x === undefined ? null : x)));

const request: Omit<KernelMessage, 'source'> = {
  id: 18446744073709551615n,
  target: addr('our', 'échö-ünïcode'),
  rsvp: addr('fake.dev', 'a'),
  message: {
    tag: 'request',
    val: {
      inherit: true,
      expectsResponse: 30n,
      body: enc('{"Hello":"wörld ✓"}'),
      metadata: 'meta 🙂',
      capabilities: [
        { issuer: addr('fake.dev', 'http-server'), params: '"messaging"' },
        { issuer: addr('fake.dev', 'vfs'), params: '{"kind":"read","drive":"/pkg:pub.os/pkg"}' },
      ],
    },
  },
  lazyLoadBlob: { mime: 'text/plain', bytes: new Uint8Array(100_000).map((_, i) => i % 251) },
};
const response: Omit<KernelMessage, 'source'> = {
  id: 7n,
  target: addr('fake.dev', 'b'),
  rsvp: undefined,
  message: { tag: 'response', val: [{ inherit: false, body: new Uint8Array(), metadata: undefined, capabilities: [] }, enc('context')] },
  lazyLoadBlob: { mime: undefined, bytes: new Uint8Array() },
};
const fireAndForget: Omit<KernelMessage, 'source'> = {
  ...request,
  id: 0n,
  rsvp: undefined,
  message: { tag: 'request', val: { inherit: false, expectsResponse: undefined, body: enc('x'), metadata: undefined, capabilities: [] } },
  lazyLoadBlob: undefined,
};

describe('worker <-> kernel message codec', () => {
  it('outgoing messages round-trip: requests, responses, unicode, big blobs, ids up to 2^64-1', () => {
    const items = [request, response, fireAndForget];
    assert.deepEqual(plain(decodeOutgoing(encodeOutgoing(items))), plain(items));
    // one after another, as a worker sends them (the encoder is reused)
    for (const it of items) assert.deepEqual(plain(decodeOutgoing(encodeOutgoing([it]))), plain([it]));
  });

  it('delivery batches round-trip, messages and send errors', () => {
    const batch: Delivery[] = [
      { kind: 'message', km: { source: addr('fake.dev', 'http_server'), ...request } },
      { kind: 'error', id: 42n, error: { kind: 'timeout', target: addr('other.os', 'x'), message: request.message, lazyLoadBlob: request.lazyLoadBlob } },
      { kind: 'error', id: 43n, error: { kind: 'offline', target: addr('other.os', 'y'), message: fireAndForget.message, lazyLoadBlob: undefined } },
      { kind: 'message', km: { source: addr('fake.dev', 'b'), ...response } },
    ];
    assert.deepEqual(plain(decodeDeliveries(encodeDeliveries(batch))), plain(batch));
  });

  it('big blobs the sender gives up travel beside the bytes, transferred: the receiver gets them whole, the sender keeps nothing', () => {
    const big = () => new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
    const given = { ...request, lazyLoadBlob: { mime: 'application/octet-stream', bytes: big() } };
    const kept = { ...request, id: 5n, lazyLoadBlob: { mime: undefined, bytes: big() } };
    const small = { ...request, id: 6n, lazyLoadBlob: { mime: undefined, bytes: new Uint8Array(OOB_MIN_BYTES - 1).fill(9) } };
    const view = { ...request, id: 8n, lazyLoadBlob: { mime: undefined, bytes: big().subarray(1) } };
    const items = [given, kept, small, view, response];
    const expected = plain(items);
    const enc = encodeOutgoingParts(items, (b) => b !== kept.lazyLoadBlob.bytes);
    assert.ok(isWithBlobs(enc), 'a given-up blob of 1 MiB is taken out of the bytes');
    // only the one given up, of its own buffer and big enough, is taken out
    assert.equal(enc.blobs.length, 1);
    assert.ok(enc.head.length < 2 * (1 << 20) + 4 * OOB_MIN_BYTES, 'the given-up blob is not in the head');
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(enc, [enc.head.buffer, ...enc.blobs]);
    // the sender can no longer see or change the bytes it gave up; what it kept is untouched
    assert.equal(given.lazyLoadBlob.bytes.byteLength, 0);
    assert.equal(kept.lazyLoadBlob.bytes.byteLength, 1 << 20);
    const got = receiveMessageOnPort(port2)!.message;
    port1.close();
    assert.ok(isWithBlobs(got));
    assert.deepEqual(plain(decodeOutgoing(got.head, got.blobs)), expected);
  });

  it('nothing given up: the bytes as usual, blobs inline; deliveries take blobs out the same way', () => {
    const items = [request, response];
    const enc = encodeOutgoingParts(items, () => false);
    assert.ok(enc instanceof Uint8Array);
    assert.deepEqual(plain(decodeOutgoing(enc)), plain(items));
    const batch: Delivery[] = [{ kind: 'message', km: { source: addr('fake.dev', 'vfs'), ...request } }];
    const d = encodeDeliveriesParts(batch, () => true);
    assert.ok(isWithBlobs(d), 'a 100,000-byte blob of its own buffer, given up, travels beside');
    assert.deepEqual(plain(decodeDeliveries(d.head, d.blobs)), plain(batch));
  });

  it('repeated and near-identical names decode exactly (the decoder keeps short strings it has seen)', () => {
    // 3,000 names over a 1,024-slot cache: same lengths, one character apart, unicode among them,
    // each decoded twice in a row and again after all the others
    const names = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `ü${i}é` : i % 3 === 0 ? `proc-${i}`.padEnd(12, 'x') : `p${i}`));
    const items = names.map((n, i) => ({ ...fireAndForget, id: BigInt(i), target: addr('node.os', n), rsvp: addr(n, 'a') }));
    for (const round of [0, 1, 2]) {
      const got = decodeOutgoing(encodeOutgoing(round === 2 ? [...items].reverse() : items));
      const want = round === 2 ? [...items].reverse() : items;
      assert.deepEqual(got.map((g) => [g.target.process.processName, g.rsvp?.node]), want.map((w) => [w.target.process.processName, w.rsvp?.node]));
    }
  });

  it('deliveries with many different addresses, and the same ones again, decode exactly (both sides keep recent addresses)', () => {
    // 3,000 addresses over the decoder's 256 slots and the encoder's few recent ones: same process
    // name on different nodes, names one character apart, unicode, an address and its near twin
    // alternating, a name edited in place between two encodes
    const names = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `ü${i}é` : `p${i % 1000}`));
    const nodes = ['a.os', 'b.os', 'fake.dev'];
    const batch: Delivery[] = names.map((n, i) => ({
      kind: 'message',
      km: { ...fireAndForget, id: BigInt(i), source: addr(nodes[i % 3]!, n), target: addr('fake.dev', i % 2 ? 'r' : 's'), rsvp: i % 5 ? undefined : addr(n, 'a') },
    }));
    for (const round of [0, 1, 2]) {
      const want = round === 2 ? [...batch].reverse() : batch;
      assert.deepEqual(plain(decodeDeliveries(encodeDeliveries(want))), plain(want));
      // one at a time too: each decode meets the addresses the one before left behind
      for (const d of want.slice(0, 200)) assert.deepEqual(plain(decodeDeliveries(encodeDeliveries([d]))), plain([d]));
    }
    const same = addr('fake.dev', 'same');
    const one = (): Delivery => ({ kind: 'message', km: { ...fireAndForget, source: same, target: same } });
    const before = decodeDeliveries(encodeDeliveries([one()]))[0]!;
    same.process.processName = 'sane'; // the encoder compares the strings, not the object
    const after = decodeDeliveries(encodeDeliveries([one()]))[0]!;
    assert.equal(before.kind === 'message' && before.km.source.process.processName, 'same');
    assert.equal(after.kind === 'message' && after.km.source.process.processName, 'sane');
  });

  it('outgoing messages with many different targets and rsvps, and the same ones again, decode exactly (the kernel keeps recent addresses too)', () => {
    // the kernel decodes a process's sends through the same address cache as a worker's
    // deliveries: 3,000 targets over its 256 slots, near twins, the same name on other nodes
    const names = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `ü${i}é` : `p${i % 1000}`));
    const nodes = ['a.os', 'b.os', 'fake.dev'];
    const items: Array<Omit<KernelMessage, 'source'>> = names.map((n, i) => ({
      ...fireAndForget,
      id: BigInt(i),
      target: addr(nodes[i % 3]!, n),
      rsvp: i % 5 ? undefined : addr(n, i % 2 ? 'r' : 's'),
    }));
    for (const round of [0, 1, 2]) {
      const want = round === 2 ? [...items].reverse() : items;
      assert.deepEqual(plain(decodeOutgoing(encodeOutgoing(want))), plain(want));
      for (const w of want.slice(0, 200)) assert.deepEqual(plain(decodeOutgoing(encodeOutgoing([w]))), plain([w]));
    }
  });

  it('a name with bytes that are not UTF-8 decodes as TextDecoder decodes it, every time', () => {
    const encodeBad = (): Uint8Array => {
      const buf = encodeOutgoing([{ ...fireAndForget, target: addr('node.os', 'bad-?-name') }]);
      buf[buf.indexOf(0x3f)] = 0xe9; // a lone Latin-1 byte: one replacement character, as many characters as bytes
      return buf;
    };
    for (let i = 0; i < 3; i++) assert.equal(decodeOutgoing(encodeBad())[0]!.target.process.processName, 'bad-\ufffd-name');
    // and the ASCII name of the same length is not mistaken for it, nor it for the ASCII one
    assert.equal(decodeOutgoing(encodeOutgoing([{ ...fireAndForget, target: addr('node.os', 'bad-e-name') }]))[0]!.target.process.processName, 'bad-e-name');
    assert.equal(decodeOutgoing(encodeBad())[0]!.target.process.processName, 'bad-\ufffd-name');
  });
});
