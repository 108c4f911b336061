// A small WebSocket load client (`ws`): C connections, each in a closed loop (send a binary
// frame, wait for its echo, send the next) for a fixed time. Returns messages per second and
// round-trip times. Connections are opened (and the server's greeting, if any, taken) before
// the clock starts.

import WebSocket from 'ws';

export interface WsLoadResult {
  msgs: number;
  seconds: number;
  rate: number;
  /** ms, one per echoed frame */
  rtts: Float64Array;
  errors: number;
}

const MAX_SAMPLES = 2_000_000;

export async function wsLoad(url: string, clients: number, durationMs: number, greeting: boolean, payloadBytes = 32): Promise<WsLoadResult> {
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < clients; i++) {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      sockets.push(ws);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`ws: no connection to ${url} within 10 s`)), 10000);
        const first = () => {
          clearTimeout(t);
          resolve();
        };
        ws.once('error', (e) => {
          clearTimeout(t);
          reject(e);
        });
        ws.once('unexpected-response', (_req, res) => {
          clearTimeout(t);
          reject(new Error(`ws: HTTP ${res.statusCode} from ${url}`));
        });
        if (greeting) ws.once('message', first);
        else ws.once('open', first);
      });
    }
    const rtts = new Float64Array(MAX_SAMPLES);
    let count = 0;
    let errors = 0;
    const t0 = performance.now();
    const end = t0 + durationMs;
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve, reject) => {
            let sentAt = 0;
            // an echo that never comes fails the run instead of hanging it
            let watchdog = setTimeout(() => reject(new Error('ws: no echo within 5 s')), 5000);
            const send = () => {
              sentAt = performance.now();
              ws.send(payload);
            };
            ws.on('message', () => {
              const now = performance.now();
              if (count < MAX_SAMPLES) rtts[count] = now - sentAt;
              count++;
              clearTimeout(watchdog);
              if (now >= end) {
                resolve();
                return;
              }
              watchdog = setTimeout(() => reject(new Error('ws: no echo within 5 s')), 5000);
              send();
            });
            ws.on('error', () => errors++);
            ws.on('close', () => {
              clearTimeout(watchdog);
              resolve();
            });
            send();
          }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { msgs: count, seconds, rate: count / seconds, rtts: rtts.subarray(0, Math.min(count, MAX_SAMPLES)), errors };
  } finally {
    for (const ws of sockets) {
      ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      ws.on('error', () => {});
      ws.terminate();
    }
  }
}
