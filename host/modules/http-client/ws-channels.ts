// WebSocket client channels, keyed by (owner process, channel id) as in the runtime: open
// (replacing an existing channel with that key), push, close, and forwarding of incoming frames
// to the owner. Built on the `ws` library with its extras off to behave like tungstenite:
// no permessage-deflate, no redirects, 64 MiB messages.
//
// Ordering: a new channel stays `held` until the caller has sent the open's Ack; events that
// arrive meanwhile are queued and replayed after it, so the owner never sees a frame of a
// channel before that channel's Ack.

import WebSocket from 'ws';
import type { Address, LazyLoadBlob } from '../../types.js';
import { pidStr } from '../../kernel/address.js';
import { wsCloseRequest, wsPushRequest, type ClientError, type WsMessageType } from '../../wire/http-client.js';

export interface ChannelSink {
  /** deliver a Request (WebSocketPush / WebSocketClose notice) to the channel's owner */
  deliver(owner: Address, body: Uint8Array, blob: LazyLoadBlob | undefined): void;
  /** verbosity-filtered terminal print */
  print(verbosity: number, text: string): void;
  /** plain line (the runtime's stdout `println!`) */
  println(line: string): void;
}

const MAX_MESSAGE = 64 << 20; // tungstenite's max_message_size
/** `--ws-send-buffer` default, as for the server's clients: bytes queued before a peer counts as not reading */
export const DEFAULT_WS_SEND_BUFFER = 16 * 1024 * 1024;
/** what a socket closed for not reading gets to finish its Close handshake before it is destroyed */
const CLOSE_GRACE_MS = 1000;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

type ChannelState = 'opening' | 'live' | 'closed-by-owner' | 'replaced' | 'dropped';

class Channel {
  state: ChannelState = 'opening';
  held = true;
  /** closed for not reading: every later push is refused the same way */
  overflowed = false;
  private readonly queue: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    readonly owner: Address,
    readonly channelId: number,
  ) {}

  /** run now, or after release() while held */
  run(fn: () => void): void {
    if (this.held) this.queue.push(fn);
    else fn();
  }

  release(): void {
    this.held = false;
    for (const fn of this.queue.splice(0)) fn();
  }
}

interface Owned {
  channels: Map<number, Channel>;
  /** sockets still in their handshake, terminated if the owner exits */
  opening: Set<WebSocket>;
}

export type OpenResult = { ok: true; channel: Channel } | { ok: false; error: ClientError };
export type { Channel };

export class WsChannels {
  private readonly owners = new Map<string, Owned>();

  constructor(
    private readonly sink: ChannelSink,
    private readonly sendBufferBytes: number = DEFAULT_WS_SEND_BUFFER,
  ) {}

  private owned(key: string): Owned {
    let o = this.owners.get(key);
    if (!o) {
      o = { channels: new Map(), opening: new Set() };
      this.owners.set(key, o);
    }
    return o;
  }

  /**
   * Open a channel for `owner`. On success the channel is registered (replacing and closing an
   * older one with the same id) but held: call `release(channel)` once the Ack is sent.
   */
  async open(
    owner: Address,
    urlText: string,
    headers: Array<[string, string]>,
    channelId: number,
    handshakeTimeoutMs: number,
    modulePrefix: string,
  ): Promise<OpenResult> {
    let url: URL;
    try {
      url = new URL(urlText);
    } catch {
      return { ok: false, error: { kind: 'bad-url', url: urlText } };
    }
    if (url.host === '') return { ok: false, error: { kind: 'ws-bad-request', url: url.href } };
    const failed = (detail: string): OpenResult => {
      this.sink.print(1, `${modulePrefix}: underlying lib connection error ${detail}`);
      return { ok: false, error: { kind: 'ws-open-failed', url: url.href } };
    };
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return failed('Url(UnsupportedUrlScheme)');

    const extra: Record<string, string> = {};
    for (const [k, v] of headers) {
      if (!TOKEN.test(k) || /[\x00-\x08\x0a-\x1f\x7f]/.test(v)) continue;
      extra[k.toLowerCase()] = Buffer.from(v, 'utf8').toString('latin1');
    }

    let ws: WebSocket;
    try {
      ws = new WebSocket(url.href, {
        headers: extra,
        perMessageDeflate: false,
        followRedirects: false,
        maxPayload: MAX_MESSAGE,
        handshakeTimeout: Math.max(1, handshakeTimeoutMs),
        autoPong: true,
      });
    } catch (e) {
      return failed((e as Error).message);
    }
    const key = pidStr(owner.process);
    const o = this.owned(key);
    o.opening.add(ws);
    // handlers go on before the handshake ends: a frame right behind the 101 response must not
    // slip past them (it is held with the channel until the Ack is out)
    const channel = new Channel(ws, owner, channelId);
    this.wire(channel);
    const opened = await new Promise<string | undefined>((resolve) => {
      const done = (err: string | undefined): void => {
        ws.off('open', onOpen);
        ws.off('error', onError);
        ws.off('close', onClose);
        resolve(err);
      };
      const onOpen = (): void => done(undefined);
      const onError = (e: Error): void => done(e.message);
      const onClose = (): void => done('connection closed during handshake');
      ws.on('open', onOpen);
      ws.on('error', onError);
      ws.on('close', onClose);
    });
    o.opening.delete(ws);
    // (a socket that is already closing again still counts as opened: its end is reported
    // after the Ack, as the runtime's listener would)
    if (opened !== undefined || this.owners.get(key) !== o) {
      channel.state = 'dropped';
      ws.terminate();
      if (this.owners.get(key) === o && o.channels.size === 0 && o.opening.size === 0) this.owners.delete(key);
      return failed(opened ?? 'closed');
    }
    channel.state = 'live';
    const old = o.channels.get(channelId);
    if (old) {
      old.state = 'replaced';
      old.ws.close();
    }
    o.channels.set(channelId, channel);
    return { ok: true, channel };
  }

  release(channel: Channel): void {
    channel.release();
  }

  /** Undo a successful open whose owner went away before its Ack: closed, never reported. */
  discard(channel: Channel): void {
    channel.state = 'dropped';
    this.forget(channel);
    channel.ws.close();
  }

  private isCurrent(c: Channel): boolean {
    return this.owners.get(pidStr(c.owner.process))?.channels.get(c.channelId) === c;
  }

  private forget(c: Channel): void {
    const key = pidStr(c.owner.process);
    const o = this.owners.get(key);
    if (o?.channels.get(c.channelId) === c) o.channels.delete(c.channelId);
    if (o && o.channels.size === 0 && o.opening.size === 0) this.owners.delete(key);
  }

  private wire(c: Channel): void {
    const { ws, owner, channelId } = c;
    const forward = (type: WsMessageType, blob: LazyLoadBlob | undefined): void =>
      c.run(() => {
        if (c.state === 'live' && this.isCurrent(c)) this.sink.deliver(owner, wsPushRequest(channelId, type), blob);
      });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const bytes = toBytes(data);
      forward(isBinary ? 'Binary' : 'Text', { mime: isBinary ? 'application/octet-stream' : 'text/plain', bytes });
    });
    ws.on('ping', () => forward('Ping', undefined));
    ws.on('pong', () => forward('Pong', undefined));
    ws.on('error', (e: Error) => {
      c.run(() => {
        if (c.state === 'live' || c.state === 'closed-by-owner') this.sink.println(`WebSocket Client Error (${channelId}): ${e.message}`);
      });
    });
    ws.on('close', () => {
      c.run(() => {
        const notify =
          (c.state === 'live' && this.isCurrent(c)) ||
          // the runtime also reports the end of a channel its owner closed, once the
          // closing handshake is over; skipped if the owner has reopened that id meanwhile
          (c.state === 'closed-by-owner' && !this.owners.get(pidStr(owner.process))?.channels.has(channelId));
        this.forget(c);
        if (notify) this.sink.deliver(owner, wsCloseRequest(channelId), undefined);
        c.state = 'dropped';
      });
    });
  }

  /** WebSocketPush from `owner`. Undefined = Ack. Socket write failures are ignored, as in the runtime. */
  push(owner: Address, channelId: number, type: WsMessageType, blob: LazyLoadBlob | undefined): ClientError | undefined {
    const c = this.owners.get(pidStr(owner.process))?.channels.get(channelId);
    if (!c) return { kind: 'ws-push-unknown-channel', channelId };
    if ((type === 'Text' || type === 'Binary') && (c.overflowed || c.ws.bufferedAmount >= this.sendBufferBytes)) {
      return this.overflow(c);
    }
    const ignore = (): void => {};
    switch (type) {
      case 'Text': {
        if (!blob) return { kind: 'ws-push-no-blob' };
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(blob.bytes);
        } catch {
          return { kind: 'ws-push-bad-text' };
        }
        c.ws.send(text, { binary: false }, ignore);
        return undefined;
      }
      case 'Binary':
        if (!blob) return { kind: 'ws-push-no-blob' };
        c.ws.send(blob.bytes, { binary: true }, ignore);
        return undefined;
      case 'Ping':
        if (c.ws.readyState === WebSocket.OPEN) c.ws.ping(Buffer.alloc(0), undefined, ignore);
        return undefined;
      case 'Pong':
        if (c.ws.readyState === WebSocket.OPEN) c.ws.pong(Buffer.alloc(0), undefined, ignore);
        return undefined;
      case 'Close':
        // a Close frame; the channel stays registered until the server completes the close
        if (c.ws.readyState === WebSocket.OPEN) c.ws.close();
        return undefined;
    }
  }

  /**
   * The server stopped reading: pushing on would buffer without limit (the runtime's queue is
   * unbounded). The push is refused with a clear error and the socket closed with 1013 (try
   * again later); the owner gets the usual WebSocketClose when it is gone.
   */
  private overflow(c: Channel): ClientError {
    const error: ClientError = { kind: 'ws-push-overflow', channelId: c.channelId, queued: c.ws.bufferedAmount, limit: this.sendBufferBytes };
    if (!c.overflowed) {
      c.overflowed = true;
      this.sink.print(0, `http-client: websocket channel ${c.channelId} of ${pidStr(c.owner.process)}: server not reading (${error.queued} bytes queued), closing`);
      c.ws.close(1013, 'not reading');
      setTimeout(() => c.ws.terminate(), CLOSE_GRACE_MS).unref();
    }
    return error;
  }

  /** WebSocketClose from `owner`. Undefined = Ack. */
  close(owner: Address, channelId: number): ClientError | undefined {
    const o = this.owners.get(pidStr(owner.process));
    const c = o?.channels.get(channelId);
    if (!o || !c) return { kind: 'ws-close-failed', channelId };
    o.channels.delete(channelId);
    c.state = 'closed-by-owner';
    c.ws.close();
    return undefined;
  }

  /** The owner process ended: its sockets are closed without telling anyone. */
  dropOwner(ownerKey: string): void {
    const o = this.owners.get(ownerKey);
    if (!o) return;
    this.owners.delete(ownerKey);
    for (const ws of o.opening) ws.terminate();
    for (const c of o.channels.values()) {
      c.state = 'dropped';
      c.ws.close();
      // a server that never answers the close must not keep the socket alive
      setTimeout(() => c.ws.terminate(), 5000).unref();
    }
  }

  /** Channel ids a process holds (for tests and diagnostics). */
  channelsOf(ownerKey: string): number[] {
    return [...(this.owners.get(ownerKey)?.channels.keys() ?? [])];
  }

  closeAll(): void {
    for (const key of [...this.owners.keys()]) {
      const o = this.owners.get(key)!;
      this.owners.delete(key);
      for (const ws of o.opening) ws.terminate();
      for (const c of o.channels.values()) {
        c.state = 'dropped';
        c.ws.terminate();
      }
    }
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
