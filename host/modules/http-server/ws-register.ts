// The WebSocket API of the Kinode docs ("connect to `/` and send a WsRegister"), which the
// runtime declares but never wired up (kinode-protocol.md §3.11). A socket upgraded on `/`
// (when no process has a WebSocket binding there) waits for its first frame:
//   * a WsRegister whose `auth_token` is a valid node token (the `kinode-auth_<node>` cookie's
//     value) and whose `target_process` is a process (or module) http-server may message →
//     the socket becomes an ordinary channel of that process, opened with path `/`
//     (`WebSocketOpen`), frames as `WebSocketPush`, the process's pushes to the client,
//     `WebSocketClose` at the end — exactly like a socket on a bound path;
//   * anything else (no token, forged or expired token, unparsable frame, unknown or
//     unreachable process, `encrypted: true`, nothing within REGISTER_TIMEOUT_MS) → the socket
//     is closed with 1008 and a reason, and no process hears of it.
// Nothing is sent to the client on success (the docs promise no reply, and a reply frame would
// reach app code that does not expect it). Frames sent right behind the WsRegister are kept
// and delivered in order once the channel is open.

import type { RawData, WebSocket } from 'ws';
import type { ModuleContext } from '../../kernel/module.js';
import { MESSAGING, parseProcessId, pidStr } from '../../kernel/address.js';
import type { ProcessId } from '../../types.js';
import { parseWsRegister, type WsRegister } from '../../wire/ws-register.js';
import { HTTP_SERVER_NAMES } from '../../wire/names.js';
import type { Auth } from './auth.js';

export const REGISTER_TIMEOUT_MS = 10_000;
/** WebSocket close code "policy violation" */
export const REGISTER_REFUSED = 1008;

export interface QueuedFrame {
  data: RawData;
  isBinary: boolean;
}

export interface RegisterDeps {
  ctx: () => ModuleContext | undefined;
  auth: () => Auth | undefined;
  print: (verbosity: number, text: string) => void;
}

const HTTP_SERVER_PID = parseProcessId(HTTP_SERVER_NAMES.v1);

/**
 * Wait for the WsRegister frame on `ws`; on success call `open(target, framesAfterIt)`,
 * else close the socket. `settled` is called once either way (for connection accounting).
 */
export function awaitRegister(
  ws: WebSocket,
  deps: RegisterDeps,
  open: (target: ProcessId, queued: QueuedFrame[]) => void,
  settled: () => void,
): void {
  const queued: QueuedFrame[] = [];
  let state: 'waiting' | 'checking' | 'done' = 'waiting';
  const finish = (): void => {
    if (state === 'done') return;
    state = 'done';
    clearTimeout(timer);
    ws.off('message', onMessage);
    ws.off('close', onClose);
    settled();
  };
  const refuse = (reason: string): void => {
    deps.print(2, `http-server: WsRegister refused: ${reason}`);
    finish();
    ws.close(REGISTER_REFUSED, reason);
  };
  const timer = setTimeout(() => refuse('no WsRegister message in time'), REGISTER_TIMEOUT_MS);
  const onClose = (): void => finish();
  const onMessage = (data: RawData, isBinary: boolean): void => {
    if (state === 'checking') {
      queued.push({ data, isBinary });
      return;
    }
    if (state !== 'waiting') return;
    state = 'checking';
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    let reg: WsRegister;
    try {
      reg = parseWsRegister(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    } catch (e) {
      refuse(`expected a WsRegister message (${(e as Error).message})`.slice(0, 120));
      return;
    }
    void check(reg, deps).then(
      (result) => {
        if (state === 'done') return; // the client left meanwhile
        if (typeof result === 'string') {
          refuse(result);
          return;
        }
        finish();
        open(result, queued);
      },
      (e: unknown) => refuse(`internal error: ${(e as Error)?.message ?? e}`.slice(0, 120)),
    );
  };
  ws.on('message', onMessage);
  ws.on('close', onClose);
}

/** The target process, or why not. */
async function check(reg: WsRegister, deps: RegisterDeps): Promise<ProcessId | string> {
  const auth = deps.auth();
  const ctx = deps.ctx();
  if (!auth || !ctx) return 'node not ready';
  if (!(await auth.validToken(reg.authToken, undefined))) return 'invalid auth_token';
  if (reg.encrypted) return 'encrypted channels are not supported';
  let target: ProcessId;
  try {
    target = parseProcessId(reg.targetProcess);
  } catch {
    return 'target_process is not a process id';
  }
  if (!reachable(ctx, target)) return `no process ${reg.targetProcess} that accepts messages from http-server`;
  return target;
}

/** Whether the kernel would hand http-server's messages to `target` (exists; public or granted). */
function reachable(ctx: ModuleContext, target: ProcessId): boolean {
  const key = pidStr(target);
  const cap = { issuer: { node: ctx.node, process: target }, params: MESSAGING };
  const obs = ctx.observer;
  if (!obs) return ctx.generationOf(target) !== undefined;
  if (!obs.has(key)) return false;
  const proc = obs.processes().find((p) => p.pid === key);
  return (proc?.public ?? false) || ctx.hasCapability(HTTP_SERVER_PID, cap);
}
