// process/blob-pool.ts and the codec's part in it: only a big buffer that arrived whole by
// transfer, and that no other blob of its batch shares, is ever kept for reuse; a spare is handed
// out once, for exactly its length; the pool stays small.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { BlobPool, noteArrived } from '../host/process/blob-pool.js';
import { decodeDeliveries, encodeDeliveriesParts, isWithBlobs } from '../host/process/message-codec.js';
import type { Delivery } from '../host/types.js';

const KiB = 1024;
const addr = { node: 'n', process: { processName: 'p', packageName: 'k', publisherNode: 'x' } };

function delivery(id: bigint, bytes: Uint8Array): Delivery {
  return {
    kind: 'message',
    km: {
      id,
      source: addr,
      target: addr,
      rsvp: undefined,
      message: { tag: 'response', val: [{ inherit: false, body: new Uint8Array([1]), metadata: undefined, capabilities: [] }, undefined] },
      lazyLoadBlob: { mime: undefined, bytes },
    },
  };
}

/** Encode `batch` with every big blob handed over, post it through a real port, decode on the other side. */
function throughPort(batch: Delivery[]): Delivery[] {
  const enc = encodeDeliveriesParts(batch, () => true);
  assert.ok(isWithBlobs(enc), 'the big blobs travelled beside the message');
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(enc, [enc.head.buffer, ...enc.blobs]);
  const got = receiveMessageOnPort(port2)!.message as typeof enc;
  port1.close();
  return decodeDeliveries(got.head, got.blobs);
}

const blobOf = (d: Delivery): Uint8Array => (d.kind === 'message' ? d.km.lazyLoadBlob!.bytes : new Uint8Array());

describe('blob pool', () => {
  it('keeps a transferred blob once released and hands it out once, for its exact length', () => {
    const pool = new BlobPool();
    const [d] = throughPort([delivery(1n, new Uint8Array(64 * KiB).fill(7))]);
    const bytes = blobOf(d!);
    assert.equal(bytes[0], 7);
    pool.release(bytes);
    assert.equal(pool.size, 1);
    assert.equal(pool.take(64 * KiB - 1), undefined, 'another length: none');
    const spare = pool.take(64 * KiB);
    assert.equal(spare, bytes.buffer, 'the same buffer, no copy');
    assert.equal(pool.take(64 * KiB), undefined, 'handed out once');
    pool.release(bytes);
    assert.equal(pool.size, 0, 'a buffer is kept once, not again after it was handed out');
  });

  it('never keeps a blob that did not arrive whole by transfer, a small one, or a detached one', () => {
    const pool = new BlobPool();
    pool.release(new Uint8Array(64 * KiB)); // made here: someone may hold it
    const small = new Uint8Array(4 * KiB);
    noteArrived(small.buffer);
    pool.release(small);
    const [d] = throughPort([delivery(2n, new Uint8Array(64 * KiB))]);
    const bytes = blobOf(d!);
    const buf = bytes.buffer as ArrayBuffer;
    structuredClone(buf, { transfer: [buf] }); // given away since
    pool.release(bytes);
    assert.equal(pool.size, 0);
  });

  it('never keeps a buffer two blobs of one batch share', () => {
    const pool = new BlobPool();
    const shared = new Uint8Array(64 * KiB).fill(3);
    const [a, b] = throughPort([delivery(3n, shared), delivery(4n, shared)]);
    assert.equal(blobOf(a!).buffer, blobOf(b!).buffer, 'one transfer, two views');
    pool.release(blobOf(a!));
    pool.release(blobOf(b!));
    assert.equal(pool.size, 0);
  });

  it('stays small: at most two spare buffers', () => {
    const pool = new BlobPool();
    const got = throughPort([1, 2, 3].map((i) => delivery(BigInt(i), new Uint8Array(40 * KiB).fill(i))));
    for (const d of got) pool.release(blobOf(d));
    assert.equal(pool.size, 2);
    assert.equal(new Uint8Array(pool.take(40 * KiB)!)[0], 3, 'the newest first');
  });
});
