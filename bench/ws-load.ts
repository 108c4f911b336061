// A small WebSocket load client (`ws`): C connections, each in a closed loop (send a binary
// frame, wait for its echo, send the next) for a fixed time. Returns messages per second and
// round-trip times. Connections are opened (and the server's greeting, if any, taken) before
// the clock starts. The generator shares the machine's cores with the server it measures, so its
// own work per message is kept small: one watchdog timer per run (not a timer set and cleared per
// echo, ~0.7 µs and a Timeout object each), the send time kept per connection.

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
/** a frame not echoed within this fails the run */
const ECHO_TIMEOUT_MS = 5000;

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
    /** per connection: when its frame in flight was sent (0: finished) */
    const sentAt = new Float64Array(sockets.length);
    let watchdog: NodeJS.Timeout | undefined;
    // an echo that never comes fails the run instead of hanging it: one timer looks at every
    // connection's frame in flight twice a second
    const stuck = new Promise<never>((_resolve, reject) => {
      watchdog = setInterval(() => {
        const now = performance.now();
        for (const t of sentAt) if (t > 0 && now - t > ECHO_TIMEOUT_MS) reject(new Error('ws: no echo within 5 s'));
      }, 500);
    });
    const echoed = Promise.all(
      sockets.map(
        (ws, i) =>
          new Promise<void>((resolve) => {
            const send = () => {
              sentAt[i] = performance.now();
              ws.send(payload);
            };
            ws.on('message', () => {
              const now = performance.now();
              if (count < MAX_SAMPLES) rtts[count] = now - sentAt[i]!;
              count++;
              if (now >= end) {
                sentAt[i] = 0;
                resolve();
                return;
              }
              send();
            });
            ws.on('error', () => errors++);
            ws.on('close', () => {
              sentAt[i] = 0;
              resolve();
            });
            send();
          }),
      ),
    );
    try {
      await Promise.race([echoed, stuck]);
    } finally {
      clearInterval(watchdog);
    }
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
