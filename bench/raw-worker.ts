// The raw-Node side of the local-messaging and process-start baselines: plain worker_threads.
//
//   mode 'idle'  posts 'up' and then waits (process-start and memory baselines)
//   mode 'a'     the sender: given a MessagePort to 'b', runs request/response (a window of
//                outstanding requests, each answered by 'b') or fire-and-forget floods
//   mode 'b'     the responder: answers every request that expects a response; counts the
//                others and reports the count to its parent at the end marker

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

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
