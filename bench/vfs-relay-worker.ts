// The worker of bench/vfs-relay.ts: a bare stand-in for a Rust process doing vfs Write + Read
// pairs, with none of Kinode in it. Its "guest memory" is a WebAssembly.Memory holding the
// bytes; per pair it does what the host does at the least: lift the bytes out of the memory
// into a fresh buffer (as jco's glue does for a list<u8> argument), post them to the main
// thread (transferred) and park until the answer, then ask for the file back, park, and lower
// the bytes it gets (transferred) into the memory. Parking is Atomics.wait on a shared counter
// with replies on a MessagePort, as process/park.ts.

import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';

export interface RelayInit {
  cell: SharedArrayBuffer;
  replies: MessagePort;
}
export interface RelayCommand {
  size: number;
  n: number;
  seq: number;
}
export type RelayRequest = { op: 'write'; bytes: Uint8Array } | { op: 'read' } | { op: 'done'; seq: number; ok: boolean };
export type RelayReply = { ok: true } | { ok: true; bytes: Uint8Array } | { ok: false; error: string };

const { Memory } = WebAssembly as unknown as { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
const { cell: sab, replies } = workerData as RelayInit;
const cell = new Int32Array(sab);
const parent = parentPort!;

function ask(req: RelayRequest, transfer?: ArrayBuffer[]): RelayReply {
  parent.postMessage(req, transfer);
  for (;;) {
    const seen = Atomics.load(cell, 0);
    const m = receiveMessageOnPort(replies);
    if (m) return m.message as RelayReply;
    Atomics.wait(cell, 0, seen);
  }
}

/** the guest memory per blob size, made and filled once (as a process's memory outlives its calls) */
const memories = new Map<number, { buffer: ArrayBuffer }>();

function memoryFor(size: number): { buffer: ArrayBuffer } {
  let memory = memories.get(size);
  if (!memory) {
    memory = new Memory({ initial: Math.ceil((2 * size) / 65536) + 1 });
    new Uint8Array(memory.buffer, 0, size).set(Uint8Array.from({ length: size }, (_, i) => i & 255));
    memories.set(size, memory);
  }
  return memory;
}

parent.on('message', (c: RelayCommand) => {
  const memory = memoryFor(c.size);
  const guest = new Uint8Array(memory.buffer);
  let ok = true;
  for (let k = 0; k < c.n && ok; k++) {
    const out = new Uint8Array(memory.buffer.slice(0, c.size));
    ok = ask({ op: 'write', bytes: out }, [out.buffer]).ok;
    const r = ask({ op: 'read' });
    if (!r.ok || !('bytes' in r) || r.bytes.length !== c.size) ok = false;
    else guest.set(r.bytes, c.size);
  }
  parent.postMessage({ op: 'done', seq: c.seq, ok } satisfies RelayRequest);
});
