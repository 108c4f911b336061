// The action handler of http-client: reads each request's HttpClientAction, runs it, and
// answers as the runtime does: Http success always, Http errors (and unreadable bodies) only
// when a response is expected, an Ack or an error for every WebSocket action, all to
// rsvp-or-source with the request's id, errors in the sender generation's enum.
//
// Actions of one process are taken in arrival order, each WebSocket action finishing before the
// next starts (the runtime runs them one by one in its main loop); Http requests only start in
// that order and then run concurrently. Different processes do not wait for each other.

import type { Dispatcher } from 'undici';
import type { Address, Generation, KernelMessage, LazyLoadBlob, Request } from '../../types.js';
import { pidStr } from '../../kernel/address.js';
import type { ModuleContext } from '../../kernel/module.js';
import {
  errorBody,
  okAck,
  okHttp,
  parseHttpClientAction,
  type ClientError,
  type HttpClientAction,
  type OutgoingHttpRequest,
} from '../../wire/http-client.js';
import { executeHttpRequest } from './http-request.js';
import type { WsChannels } from './ws-channels.js';

export interface ActionLimits {
  /** abort an Http request whose timeout (`expects-response`) has passed, this much later */
  graceMs: number;
  /** limit for an Http request sent without `expects-response` (the runtime has none) */
  unawaitedTimeoutMs: number;
  /** WebSocket handshake limit when the open request has no `expects-response` */
  defaultHandshakeMs: number;
  /** largest response body read (`--max-response`); the runtime has no limit */
  maxResponseBytes: number;
}

const MAX_TIMER = 2 ** 31 - 1;

export const modulePrefix = (gen: Generation): string => (gen === 0 ? 'http_client' : 'http-client');

export class ActionHandler {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly inflight = new Set<AbortController>();
  /** exits seen per process: WebSocket actions from an instance that has ended are dropped */
  private readonly exits = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly ctx: ModuleContext,
    private readonly channels: WsChannels,
    private readonly dispatcher: Dispatcher,
    private readonly limits: ActionLimits,
  ) {}

  handle(km: KernelMessage, gen: Generation): void {
    if (this.stopped || km.message.tag !== 'request') return; // responses to the module are ignored
    const req = km.message.val;
    const owner = km.rsvp ?? km.source;
    const key = pidStr(owner.process);
    const epoch = this.exits.get(key) ?? 0;
    const ownerGone = (): boolean => (this.exits.get(key) ?? 0) !== epoch;
    const failed = (e: unknown): void => this.ctx.print(0, `${modulePrefix(gen)}: internal error: ${(e as Error)?.message ?? e}`);
    // One owner's actions run in arrival order. With nothing pending they run at once, so an
    // action sent before its process ended is carried out before the exit is (a push then a
    // return must still send the frame); behind a pending WebSocketOpen they wait their turn.
    const prev = this.queues.get(key);
    let pending: Promise<void> | undefined;
    if (prev) {
      pending = prev.then(() => this.run(km, req, owner, gen, ownerGone)).catch(failed);
    } else {
      try {
        pending = this.run(km, req, owner, gen, ownerGone)?.catch(failed);
      } catch (e) {
        failed(e);
      }
    }
    if (!pending) return;
    const next = pending;
    this.queues.set(key, next);
    void next.then(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  private reply(km: KernelMessage, body: Uint8Array, blob?: LazyLoadBlob): void {
    if (this.stopped) return;
    this.ctx.respond(km, { inherit: false, body, metadata: undefined, capabilities: [] }, blob);
  }

  /** The owner process ended: its queued WebSocket actions must not open channels for nobody. */
  processExited(key: string): void {
    this.exits.set(key, (this.exits.get(key) ?? 0) + 1);
  }

  /** Carries out one action; a promise only while it is still under way (a WebSocketOpen). */
  private run(km: KernelMessage, req: Request, owner: Address, gen: Generation, ownerGone: () => boolean): Promise<void> | undefined {
    if (this.stopped) return;
    let action;
    try {
      action = parseHttpClientAction(req.body);
    } catch {
      if (req.expectsResponse !== undefined) this.reply(km, errorBody({ kind: 'malformed', body: req.body }, gen));
      return;
    }
    const answer = (e: ClientError | undefined): void => this.reply(km, e ? errorBody(e, gen) : okAck());
    // (an Http request still runs after its sender ended, as in the runtime; channels do not)
    if (action.tag !== 'Http' && ownerGone()) return;
    switch (action.tag) {
      case 'Http':
        this.startHttp(km, req, action.req, gen);
        return;
      case 'WebSocketOpen':
        return this.open(action, req, owner, gen, answer, ownerGone);
      case 'WebSocketPush':
        answer(this.channels.push(owner, action.channelId, action.messageType, km.lazyLoadBlob));
        return;
      case 'WebSocketClose':
        answer(this.channels.close(owner, action.channelId));
        return;
    }
  }

  private async open(
    action: Extract<HttpClientAction, { tag: 'WebSocketOpen' }>,
    req: Request,
    owner: Address,
    gen: Generation,
    answer: (e: ClientError | undefined) => void,
    ownerGone: () => boolean,
  ): Promise<void> {
    const ms = req.expectsResponse !== undefined ? Number(req.expectsResponse) * 1000 + this.limits.graceMs : this.limits.defaultHandshakeMs;
    const r = await this.channels.open(owner, action.url, action.headers, action.channelId, Math.min(ms, MAX_TIMER), modulePrefix(gen));
    // the owner ended meanwhile (its opening socket was dropped with it): nobody to answer
    if (!r.ok) return ownerGone() ? undefined : answer(r.error);
    if (ownerGone()) {
      this.channels.discard(r.channel);
      return;
    }
    answer(undefined);
    // only now may the channel's frames go out: the Ack is ahead of them
    this.channels.release(r.channel);
  }

  private startHttp(km: KernelMessage, req: Request, http: OutgoingHttpRequest, gen: Generation): void {
    const expects = req.expectsResponse;
    const ctl = new AbortController();
    this.inflight.add(ctl);
    const limit = expects !== undefined ? Number(expects) * 1000 + this.limits.graceMs : this.limits.unawaitedTimeoutMs;
    const timer = setTimeout(() => ctl.abort(), Math.min(limit, MAX_TIMER));
    const prefix = modulePrefix(gen);
    void executeHttpRequest(http, km.lazyLoadBlob?.bytes, {
      dispatcher: this.dispatcher,
      signal: ctl.signal,
      maxResponseBytes: this.limits.maxResponseBytes,
      onSend: (method, url) => this.ctx.print(2, `${prefix}: ${method} request to ${url}`),
    }).then((outcome) => {
      clearTimeout(timer);
      this.inflight.delete(ctl);
      switch (outcome.kind) {
        case 'aborted':
          return; // past the caller's timeout (it has its timeout error) or shutting down
        case 'response':
          this.reply(km, okHttp(outcome.response.status, outcome.response.headers), {
            mime: undefined,
            bytes: outcome.response.body,
          });
          return;
        case 'error':
          if (outcome.error.kind === 'response-too-large') this.ctx.print(1, `${prefix}: ${http.method} ${http.url}: response body larger than ${outcome.error.limit} bytes, refused`);
          if (!outcome.early) this.ctx.print(2, `${prefix}: executed request but got error`);
          if (expects !== undefined) this.reply(km, errorBody(outcome.error, gen));
          return;
      }
    });
  }

  /** Number of Http requests still running (tests, diagnostics). */
  get inflightCount(): number {
    return this.inflight.size;
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.inflight) c.abort();
    this.inflight.clear();
    this.queues.clear();
  }
}
