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
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => this.run(km, req, owner, gen, () => (this.exits.get(key) ?? 0) !== epoch))
      .catch((e: unknown) => this.ctx.print(0, `${modulePrefix(gen)}: internal error: ${(e as Error)?.message ?? e}`));
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

  private async run(km: KernelMessage, req: Request, owner: Address, gen: Generation, ownerGone: () => boolean): Promise<void> {
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
      case 'WebSocketOpen': {
        const ms =
          req.expectsResponse !== undefined ? Number(req.expectsResponse) * 1000 + this.limits.graceMs : this.limits.defaultHandshakeMs;
        const r = await this.channels.open(owner, action.url, action.headers, action.channelId, Math.min(ms, MAX_TIMER), modulePrefix(gen));
        if (!r.ok) return answer(r.error);
        if (ownerGone()) {
          this.channels.discard(r.channel);
          return;
        }
        answer(undefined);
        // only now may the channel's frames go out: the Ack is ahead of them
        this.channels.release(r.channel);
        return;
      }
      case 'WebSocketPush':
        return answer(this.channels.push(owner, action.channelId, action.messageType, km.lazyLoadBlob));
      case 'WebSocketClose':
        return answer(this.channels.close(owner, action.channelId));
    }
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
