// The WebSocket server (fact sheet 3.9, 3.10): upgrades on WS-bound paths of the shared HTTP
// server, one channel (random u32, unique while its socket is open) per connection, client
// frames to the bound process as WebSocketPush, process pushes to the client, extension
// (msgpack) envelopes both ways. A socket on `/` with no binding there is the docs' WebSocket
// API: its first frame (WsRegister) names the process it becomes a channel of (ws-register.ts).

import { isUtf8 } from 'node:buffer';
import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Capability, LazyLoadBlob, Message, ProcessId } from '../../types.js';
import { pidStr, samePid } from '../../kernel/address.js';
import { handOver } from '../../kernel/blob-handover.js';
import { OOB_MIN_BYTES } from '../../process/message-codec.js';
import type { ModuleContext } from '../../kernel/module.js';
import { wsCloseBody, wsOpenBody, wsPushBody, type MessageType, type ServerErrorKind, type WsMessageType } from '../../wire/http-server.js';
import { decodeExtFrame, encodeExtPushData } from '../../wire/msgpack.js';
import type { Auth } from './auth.js';
import { normalizePath, type Bindings } from './routes.js';
import { hasDuplicateHost, hostnameOf, isLoopbackPeer, serializeHeaders, splitTarget } from './request-info.js';
import { awaitRegister } from './ws-register.js';
import { closeHard, watchUnfinished } from './ws-limits.js';
import { PushCoalescer, type PushMarks } from './ws-coalesce.js';

/** v1's limit on concurrent server-side sockets; further upgrades fall through to HTTP */
export const MAX_WS_CONNECTIONS = 128;

interface Channel extends PushMarks {
  id: number;
  owner: ProcessId;
  ownerKey: string;
  ws: WebSocket;
  /** the client's socket (the coalescer corks it) */
  socket: Duplex;
  extension: boolean;
  /** false once the process closed it (the socket may still be finishing) */
  pushable: boolean;
  /** tell the unfinished-message watch that a message or control frame arrived */
  messageDone: () => void;
  /** the WebSocketPush body per frame type, built once (the codec copies bodies, never changes them) */
  pushBodies: Partial<Record<WsMessageType, Uint8Array>>;
}

/** `--ws-send-buffer` default: bytes queued to one client before it counts as not reading */
export const DEFAULT_WS_SEND_BUFFER = 16 * 1024 * 1024;
/** `--ws-frame-timeout` default: time to finish a message once its first bytes arrived */
export const DEFAULT_WS_FRAME_TIMEOUT_MS = 30_000;

export interface WsServerOptions {
  ctx: () => ModuleContext | undefined;
  bindings: Bindings;
  auth: () => Auth | undefined;
  /** largest client message (`--max-ws-frame`) */
  maxPayload: number;
  /** a push finding this many bytes still queued to the client closes the socket (1013) */
  sendBufferBytes?: number;
  /** an unfinished client message older than this closes the socket (1008) */
  frameTimeoutMs?: number;
  print: (verbosity: number, text: string) => void;
  /** a plain output line (where the runtime writes to stdout) */
  println: (line: string) => void;
  /** an upgrade that is not ours: answer it as plain HTTP */
  fallThrough: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);

/** what every frame's push carries: no capabilities (shared, never changed: the codec and the kernel only read it) */
const NO_CAPS = Object.freeze([]) as unknown as Capability[];
/** ws's send options, one object for every frame (ws copies them) */
const AS_BINARY = { binary: true } as const;
const AS_TEXT = { binary: false } as const;

/**
 * A frame's payload that fills an ArrayBuffer of its own (ws concatenates a message that spanned
 * several reads into a fresh one) and is big enough to travel beside the delivery batch: nothing
 * here keeps it, so the kernel may transfer it to the process's worker instead of copying it
 * twice (into the batch, then into the ring or port). Smaller ones are copied into the ring.
 */
function handOverIfOwned(payload: Buffer): Uint8Array {
  if (payload.byteLength >= OOB_MIN_BYTES && payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength) handOver(payload);
  return payload;
}

export class WsServer {
  private readonly wss: WebSocketServer;
  private readonly channels = new Map<number, Channel>();
  /** sockets on `/` still waiting for their WsRegister (they count against the limit) */
  private readonly registering = new Set<WebSocket>();
  /** several pushes to one client in one run: one socket write (ws-coalesce.ts) */
  private readonly coalescer = new PushCoalescer();
  private stopped = false;

  constructor(private readonly o: WsServerOptions) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: o.maxPayload });
  }

  /** The server's 'upgrade' listener. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {}); // a reset peer must not crash the node
    this.accept(req, socket, head).then(
      (accepted) => {
        if (!accepted) this.o.fallThrough(req, socket, head);
      },
      (e: unknown) => {
        this.o.print(0, `http-server: websocket upgrade failed: ${(e as Error)?.message ?? e}`);
        socket.destroy();
      },
    );
  }

  /** The checks of the runtime's ws route; true if the socket was taken over. */
  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean> {
    const headers = serializeHeaders(req.rawHeaders);
    // what warp's ws() filter requires; anything else is plain HTTP (two Host headers: its 400)
    if (
      hasDuplicateHost(req.rawHeaders) ||
      req.method !== 'GET' ||
      (headers.get('upgrade') ?? '').toLowerCase() !== 'websocket' ||
      !headers.has('sec-websocket-key') ||
      headers.get('sec-websocket-version') !== '13'
    ) {
      return false;
    }
    const originalPath = normalizePath(splitTarget(req.url).path);
    this.o.print(2, `http-server: ws request for ${originalPath}`);
    if (this.channels.size + this.registering.size >= MAX_WS_CONNECTIONS) {
      this.o.print(0, `http-server: too many open websockets (${this.channels.size})! rejecting incoming`);
      return false;
    }
    const match = this.o.bindings.lookupWs(originalPath);
    const binding = match?.value;
    const app = binding?.app;
    if (originalPath === '' && (!binding || !app)) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.register(ws, socket));
      return true;
    }
    if (!binding || !app) return false;

    if (binding.authenticated) {
      const auth = this.o.auth();
      const cookie = headers.get('cookie');
      if (!auth || cookie === undefined) return false;
      if (binding.secureSubdomain !== undefined) {
        const host = headers.get('host');
        if (host === undefined) return false;
        const label = hostnameOf(host).split('.')[0] ?? '';
        if (label !== binding.secureSubdomain || !(await auth.valid(cookie, pidStr(app)))) return false;
      } else if (!(await auth.valid(cookie, undefined))) {
        return false;
      }
    }
    if (binding.extension && !isLoopbackPeer(req)) return false;
    if (socket.destroyed) return true;

    // the path the process sees: its prefix removed, always starting with `/`
    const trimmed = originalPath.replace(/^\/+/, '');
    const pid = pidStr(app);
    const rest = trimmed.startsWith(pid) ? trimmed.slice(pid.length) : '';
    const path = `/${rest.replace(/^\/+/, '')}`;
    const extension = binding.extension;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, socket, app, path, extension));
    return true;
  }

  private freshId(): number {
    for (;;) {
      const id = randomInt(0, 2 ** 32);
      if (!this.channels.has(id)) return id;
    }
  }

  /** The WebSocket API: the first frame says which process this socket is for. */
  private register(ws: WebSocket, socket: Duplex): void {
    this.registering.add(ws);
    ws.on('error', (e) => this.o.print(2, `http-server: websocket on / : ${e.message}`));
    awaitRegister(
      ws,
      { ctx: this.o.ctx, auth: this.o.auth, print: this.o.print },
      (target, queued) => {
        if (this.stopped) return void ws.terminate();
        const ch = this.open(ws, socket, target, '/', false);
        for (const f of queued) this.frame(ch, f.isBinary ? 'Binary' : 'Text', toBuffer(f.data));
      },
      () => this.registering.delete(ws),
    );
  }

  private open(ws: WebSocket, socket: Duplex, app: ProcessId, path: string, extension: boolean): Channel {
    const id = this.freshId();
    const watch = watchUnfinished(ws, socket, this.o.frameTimeoutMs ?? DEFAULT_WS_FRAME_TIMEOUT_MS, () => {
      this.o.print(1, `http-server: websocket ${id}: message not finished in time, closing`);
      closeHard(ws, 1008, 'message not finished in time');
    });
    const ch: Channel = {
      id,
      owner: app,
      ownerKey: pidStr(app),
      ws,
      socket,
      extension,
      pushable: true,
      messageDone: watch.messageDone,
      pushBodies: {},
      lastPushRun: 0,
      corkedRun: 0,
    };
    this.channels.set(id, ch);
    this.o.print(2, `http-server: new websocket connection to ${ch.ownerKey} with id ${id}`);
    this.request(app, wsOpenBody(path, id));
    ws.on('message', (data, isBinary) => this.frame(ch, isBinary ? 'Binary' : 'Text', toBuffer(data)));
    ws.on('ping', (data) => this.frame(ch, 'Ping', data));
    ws.on('pong', (data) => this.frame(ch, 'Pong', data));
    ws.on('error', (e) => this.o.print(2, `http-server: websocket ${id}: ${e.message}`));
    ws.on('close', (code, reason) => {
      watch.stop();
      // 1006: the stream ended without a Close frame
      if (code !== 1006) this.frame(ch, 'Close', reason);
      this.channels.delete(id);
      this.request(app, wsCloseBody(id));
      this.o.print(2, `http-server: websocket connection ${id} closed`);
    });
    return ch;
  }

  private send(target: ProcessId, message: Message, blob: LazyLoadBlob | undefined, id?: bigint): void {
    const ctx = this.o.ctx();
    if (!ctx || this.stopped) return;
    ctx.send({ target: { node: ctx.node, process: target }, message, lazyLoadBlob: blob, id });
  }

  private request(target: ProcessId, body: Uint8Array, blob?: LazyLoadBlob, id?: bigint): void {
    this.send(target, { tag: 'request', val: { inherit: false, expectsResponse: undefined, body, metadata: undefined, capabilities: NO_CAPS } }, blob, id);
  }

  /** A frame from the client: a push to the owner, or on extension bindings maybe an envelope. */
  private frame(ch: Channel, type: WsMessageType, payload: Buffer): void {
    ch.messageDone();
    const body = (ch.pushBodies[type] ??= wsPushBody(ch.id, type));
    if (!ch.extension) {
      // the payload as ws gave it (a Buffer is a Uint8Array): no view, no copy here
      this.request(ch.owner, body, { mime: undefined, bytes: handOverIfOwned(payload) });
      return;
    }
    const bytes: Uint8Array = payload;
    const gen = this.o.ctx()?.generationOf(ch.owner) ?? 1;
    const d = decodeExtFrame(bytes, gen);
    switch (d.kind) {
      case 'raw':
        this.request(ch.owner, body, { mime: undefined, bytes });
        return;
      case 'push-data': {
        const blob = { mime: undefined, bytes: d.blob };
        if (d.kinodeMessageType === 'Request') {
          this.request(ch.owner, body, blob, d.id);
        } else {
          this.send(ch.owner, { tag: 'response', val: [{ inherit: false, body, metadata: undefined, capabilities: [] }, undefined] }, blob, d.id);
        }
        return;
      }
      case 'other-action':
        this.o.println(`http server: got unexpected message from ext websocket: ${d.action.tag}`);
        return;
    }
  }

  /**
   * A push from process `source` (WebSocketPush, or WebSocketExtPushOutgoing with `ext`), checked
   * in the runtime's order. Returns the error, or undefined when the frame was sent.
   */
  push(
    source: ProcessId,
    channelId: number,
    type: WsMessageType,
    blob: LazyLoadBlob | undefined,
    ext?: { id: bigint; desiredReplyType: MessageType },
  ): ServerErrorKind | undefined {
    if (!blob) return 'no-blob';
    let bytes = blob.bytes;
    if (ext) {
      if (type !== 'Binary') return 'no-blob';
      bytes = encodeExtPushData(ext.id, ext.desiredReplyType, bytes);
    }
    if ((type === 'Ping' || type === 'Pong') && bytes.length > 125) return 'ping-pong-too-long';
    const ch = this.channels.get(channelId);
    if (!ch || !ch.pushable) return 'channel-not-found';
    if (!samePid(ch.owner, source)) return 'channel-not-owned';
    if (ch.ws.readyState !== WebSocket.OPEN) return 'channel-closed';
    if (ch.ws.bufferedAmount >= (this.o.sendBufferBytes ?? DEFAULT_WS_SEND_BUFFER)) return this.overflow(ch);
    this.coalescer.beforePush(ch.socket, ch);
    switch (type) {
      case 'Text':
        // the runtime sends the lossy UTF-8 text of the bytes: valid UTF-8 is that text already
        // (sent as it is, no decode and encode again); anything else gets its replacement characters
        if (isUtf8(bytes)) ch.ws.send(bytes, AS_TEXT);
        else ch.ws.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
        break;
      case 'Binary':
        ch.ws.send(bytes, AS_BINARY);
        break;
      case 'Ping':
        ch.ws.ping(bytes);
        break;
      case 'Pong':
        ch.ws.pong(bytes);
        break;
      case 'Close':
        // the runtime hits unreachable!() here; closing the channel is the sensible reading
        ch.pushable = false;
        ch.ws.close();
        break;
    }
    return undefined;
  }

  /**
   * The client stopped reading: pushing on would buffer without limit (the runtime's queue is
   * unbounded). The socket is closed with 1013 (try again later) and this push is refused, so
   * the process learns that the frame did not go out; the usual WebSocketClose follows.
   */
  private overflow(ch: Channel): ServerErrorKind {
    this.o.print(0, `http-server: websocket ${ch.id} of ${ch.ownerKey}: client not reading (${ch.ws.bufferedAmount} bytes queued), closing`);
    ch.pushable = false;
    closeHard(ch.ws, 1013, 'client not reading');
    return 'channel-overflow';
  }

  /** WebSocketClose from `source`: its own channel is closed; someone else's is an error; unknown is fine. */
  close(source: ProcessId, channelId: number): ServerErrorKind | undefined {
    const ch = this.channels.get(channelId);
    if (!ch || !ch.pushable) return undefined;
    if (ch.ownerKey !== pidStr(source)) return 'channel-not-owned';
    ch.pushable = false;
    ch.ws.close();
    return undefined;
  }

  /** Open channel ids owned by a process (`process:package:publisher`). */
  channelsOf(pid: string): number[] {
    return [...this.channels.values()].filter((c) => c.ownerKey === pid && c.pushable).map((c) => c.id);
  }

  get openCount(): number {
    return this.channels.size;
  }

  stop(): void {
    this.stopped = true;
    for (const ch of this.channels.values()) ch.ws.terminate();
    this.channels.clear();
    for (const ws of this.registering) ws.terminate();
    this.registering.clear();
    this.wss.close();
  }
}
