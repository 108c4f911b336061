// The raw-Node side of the local-messaging and process-start baselines: plain worker_threads.
//
//   mode 'idle'  posts 'up' and then waits (process-start and memory baselines)
//   mode 'a'     the sender: given a MessagePort to 'b', runs request/response (a window of
//                outstanding requests, each answered by 'b') or fire-and-forget floods
//   mode 'b'     the responder: answers every request that expects a response; counts the
//                others and reports the count to its parent at the end marker
//   modes 'ring-a' and 'ring-b'  the same request/response, but relayed by the main thread over
//                the host's rings with its doorbell and parking (bench/ring-relay.ts): the
//                workers block in Atomics.wait as a process worker does

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { DOORBELL, Parking } from '../host/process/park.js';
import { RingReceiver, RingSender } from '../host/process/ring.js';
import { RELAY_MSG } from './ring-relay.js';

interface Msg {
  id?: number;
  expects?: number;
  end?: number;
  body?: Uint8Array;
}

const mode = (workerData as { mode: string }).mode;
const parent = parentPort!;

if (mode === 'idle') {
  parent.postMessage('up');
  parent.on('message', () => {});
} else if (mode === 'b') {
  parent.once('message', ({ port }: { port: MessagePort }) => {
    let count = 0;
    const pong = new TextEncoder().encode('pong');
    port.on('message', (m: Msg) => {
      if (m.expects !== undefined) port.postMessage({ id: m.id, body: pong });
      else if (m.end !== undefined) {
        parent.postMessage({ ffDone: count, seq: m.end });
        count = 0;
      } else count++;
    });
    parent.postMessage('up');
  });
} else if (mode === 'a') {
  parent.once('message', ({ port }: { port: MessagePort }) => {
    const body = new TextEncoder().encode('x');
    // every reply carries the command's seq: the parent never takes a late reply for a new command
    parent.on('message', (c: { cmd: 'rr' | 'ff'; n: number; window: number; seq: number }) => {
      const t0 = performance.now();
      if (c.cmd === 'ff') {
        for (let i = 0; i < c.n; i++) port.postMessage({ id: i, body });
        port.postMessage({ end: c.seq });
        parent.postMessage({ ms: performance.now() - t0, seq: c.seq });
        return;
      }
      let sent = 0;
      let done = 0;
      const send = () => {
        port.postMessage({ id: sent, expects: 5, body });
        sent++;
      };
      const onMessage = () => {
        done++;
        if (done === c.n) {
          port.off('message', onMessage);
          parent.postMessage({ ms: performance.now() - t0, seq: c.seq });
        } else if (sent < c.n) send();
      };
      port.on('message', onMessage);
      while (sent < Math.min(c.n, c.window)) send();
    });
    parent.postMessage('up');
  });
}

interface RingInit {
  signal: SharedArrayBuffer;
  inRing: SharedArrayBuffer;
  outRing: SharedArrayBuffer;
  inbox: MessagePort;
  outbox: MessagePort;
}

/** A worker's end of the ring relay: sends as KernelLink.send does, takes batches as nextDelivery does. */
function ringEnd(init: RingInit) {
  const cell = new Int32Array(init.signal);
  const parking = new Parking(init.signal);
  const inRing = new RingReceiver(init.inRing, init.inbox);
  const out = new RingSender(init.outRing, init.outbox);
  const poll = () => inRing.next() as Uint8Array | undefined;
  const rec = new Uint8Array(RELAY_MSG);
  const words = new Uint32Array(rec.buffer);
  return {
    send(id: number, expects: number): void {
      words[0] = id;
      words[1] = expects;
      words[2] = 1;
      rec[12] = 0x78;
      out.sendBytes(rec);
      if (Atomics.compareExchange(cell, DOORBELL, 0, 1) === 0) parent.postMessage(0);
    },
    /** the next batch (blocks, parked); its messages are RELAY_MSG bytes each */
    take(): DataView {
      const b = parking.takeFrom(poll);
      return new DataView(b.buffer, b.byteOffset, b.byteLength);
    },
  };
}

if (mode === 'ring-b') {
  parent.once('message', (init: RingInit) => {
    const end = ringEnd(init);
    parent.postMessage('up');
    // a process worker's life: block for the next batch, answer each request in it
    for (;;) {
      const batch = end.take();
      for (let at = 0; at < batch.byteLength; at += RELAY_MSG) {
        if (batch.getUint32(at + 4, true) !== 0) end.send(batch.getUint32(at, true), 0);
      }
    }
  });
} else if (mode === 'ring-a') {
  parent.once('message', (init: RingInit) => {
    const end = ringEnd(init);
    parent.on('message', (c: { cmd: 'rr'; n: number; window: number }) => {
      const t0 = performance.now();
      let sent = 0;
      let done = 0;
      while (sent < Math.min(c.n, c.window)) end.send(sent++, 5);
      while (done < c.n) {
        const batch = end.take();
        for (let at = 0; at < batch.byteLength; at += RELAY_MSG) {
          done++;
          if (sent < c.n) end.send(sent++, 5);
        }
      }
      parent.postMessage({ ms: performance.now() - t0 });
    });
    parent.postMessage('up');
  });
}
