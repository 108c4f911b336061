// Per-socket limits of the WebSocket server that the `ws` library does not give (issue 11.2):
//
// * a message must be finished within `frameTimeoutMs` of the first byte that left it unfinished
//   (else 1008 and the socket is dropped): a client holding a partial frame or an unfinished
//   fragmented message can no longer pin up to `--max-ws-frame` bytes for ever. Listen-only
//   sockets that send nothing are not affected (Kinode UIs keep those open for hours, and the
//   runtime has no idle timeout either).
// * `closeHard`: a Close frame with a code, then the socket is destroyed after a short grace:
//   a peer that does not read would otherwise keep its buffers alive for ws's 30 s close timeout.
//
// Whether the parser holds part of a message is read from ws 8's Receiver (`_state`,
// `_bufferedBytes`, `_fragments`): ws exposes nothing public for it. If a later ws renames them,
// `midMessage` answers false (the timeout stops working, nothing else breaks) and
// test/http-hardening-ws.test.ts fails.

import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** what a socket gets to finish its Close handshake before it is destroyed */
export const CLOSE_GRACE_MS = 1000;

interface ReceiverView {
  _state?: number;
  _bufferedBytes?: number;
  _fragments?: unknown[];
}

/** ws Receiver states that sit inside a frame: GET_PAYLOAD_LENGTH_16 (1) .. GET_DATA (4). */
const IN_FRAME_FIRST = 1;
const IN_FRAME_LAST = 4;

const receiverOf = (ws: WebSocket): ReceiverView | undefined => (ws as unknown as { _receiver?: ReceiverView })._receiver;

/** Whether this parser holds part of a frame or of a fragmented message (checked after every read). */
function holdsPart(r: ReceiverView | undefined): boolean {
  if (!r) return false;
  const state = r._state ?? 0;
  return (state >= IN_FRAME_FIRST && state <= IN_FRAME_LAST) || (r._bufferedBytes ?? 0) > 0 || (r._fragments?.length ?? 0) > 0;
}

/** Whether the socket's parser holds part of a frame or of a fragmented message. */
export function midMessage(ws: WebSocket): boolean {
  return holdsPart(receiverOf(ws));
}

/** Close with `code`, and destroy the socket if the handshake is not over within the grace. */
export function closeHard(ws: WebSocket, code: number, reason: string): void {
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}

/**
 * Watch `socket` (already handed to `ws`) for unfinished messages. `messageDone` must be called
 * on every complete message or control frame. Returns the function that stops watching.
 */
export function watchUnfinished(
  ws: WebSocket,
  socket: Duplex,
  frameTimeoutMs: number,
  onTimeout: () => void,
): { messageDone: () => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let progressed = false;
  // ws gives a socket its receiver before the upgrade's callback (where this is called) and never
  // replaces it: looked up once, not on every read
  const receiver = receiverOf(ws);
  const check = (): void => {
    timer = undefined;
    if (!holdsPart(receiver)) return;
    if (progressed) {
      // a message finished meanwhile: what is held now is a newer one, give it its own time
      progressed = false;
      timer = setTimeout(check, frameTimeoutMs);
      return;
    }
    onTimeout();
  };
  // added after ws's own listener, so the bytes are already parsed when this runs
  const onData = (): void => {
    if (timer === undefined && holdsPart(receiver)) {
      progressed = false;
      timer = setTimeout(check, frameTimeoutMs);
    }
  };
  socket.on('data', onData);
  return {
    messageDone: () => {
      progressed = true;
    },
    stop: () => {
      socket.off('data', onData);
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
