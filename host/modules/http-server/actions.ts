// Actions from processes (fact sheet 3.1, 3.2): bind and unbind paths, WebSocket pushes and
// closes. Replies in the sender's generation: errors always (to the source, same id), `Ok`
// only when the request expects a response (to its rsvp, else its source).

import type { Generation, KernelMessage, ProcessId } from '../../types.js';
import { addrStr, isKimapSafe, pidStr } from '../../kernel/address.js';
import type { ModuleContext } from '../../kernel/module.js';
import {
  actionErrorBody,
  actionOkBody,
  parseHttpServerAction,
  type HttpServerAction,
  type ServerError,
} from '../../wire/http-server.js';
import { formatPathWithProcess, secureSubdomain, type Bindings } from './routes.js';
import type { WsServer } from './websockets.js';

export interface ActionDeps {
  bindings: Bindings;
  ws: WsServer;
  print: (verbosity: number, text: string) => void;
  /** a plain output line (where the runtime writes to stdout) */
  println: (line: string) => void;
  /** HTTP and WebSocket routes (tombstones included) one process may hold; default 10,000 */
  maxBindingsPerProcess?: number;
}

export const DEFAULT_MAX_BINDINGS_PER_PROCESS = 10_000;

const lossy = new TextDecoder('utf-8', { fatal: false });

/** v1 refuses bindings from process ids that are not Kimap-safe (asked only by the bind actions) */
const unsafeSource = (gen: Generation, src: ProcessId): boolean => gen === 1 && !isKimapSafe(src);

export class ActionHandler {
  /** processes told about the binding limit already */
  private readonly warnedLimit = new Set<string>();

  constructor(
    private readonly ctx: ModuleContext,
    private readonly d: ActionDeps,
  ) {}

  /** A Request to the module. */
  handle(km: KernelMessage, gen: Generation): void {
    if (km.message.tag !== 'request') return;
    const req = km.message.val;
    let action: HttpServerAction;
    try {
      action = parseHttpServerAction(req.body, gen);
    } catch {
      this.d.println(`http-server: got malformed request from ${addrStr(km.source)}: ${JSON.stringify(lossy.decode(req.body))}`);
      this.error(km, gen, { kind: 'malformed', body: req.body });
      return;
    }
    const outcome = this.overLimit(km.source.process, action) ?? this.perform(km, gen, action);
    if (outcome === 'no-ok') return;
    if (outcome !== undefined) {
      this.error(km, gen, outcome);
      // quirk kept from the runtime: WebSocketOpen also gets an Ok when one is expected
      if (action.tag !== 'WebSocketOpen') return;
    }
    if (km.rsvp !== undefined || req.expectsResponse !== undefined) {
      this.ctx.respond(km, { inherit: false, body: actionOkBody(), metadata: undefined, capabilities: [] });
    }
  }

  /**
   * The per-process binding limit (the runtime has none): a bind, secure bind or unbind that
   * would add a route past it is refused; one that replaces a route of the same shape is not.
   */
  private overLimit(src: ProcessId, a: HttpServerAction): ServerError | undefined {
    let table: 'http' | 'ws';
    if (a.tag === 'Bind' || a.tag === 'SecureBind' || a.tag === 'Unbind') table = 'http';
    else if (a.tag === 'WebSocketBind' || a.tag === 'WebSocketSecureBind' || a.tag === 'WebSocketUnbind') table = 'ws';
    else return undefined;
    const limit = this.d.maxBindingsPerProcess ?? DEFAULT_MAX_BINDINGS_PER_PROCESS;
    const key = pidStr(src);
    const b = this.d.bindings;
    if (b.http.countOf(key) + b.ws.countOf(key) < limit) return undefined;
    const path = formatPathWithProcess(src, a.path);
    if (b[table].has(path)) return undefined;
    // printed once per process: a process binding in a loop must not flood the terminal
    if (!this.warnedLimit.has(key)) {
      this.warnedLimit.add(key);
      this.d.print(0, `http-server: refused to bind ${path} for ${key}: a process may hold ${limit} bindings (later refusals are not printed)`);
    }
    return { kind: 'too-many-bindings', limit };
  }

  /** Do it; an error to send, 'no-ok' for an action that never gets an Ok, or undefined. */
  private perform(km: KernelMessage, gen: Generation, a: HttpServerAction): ServerError | 'no-ok' | undefined {
    const src: ProcessId = km.source.process;
    const blob = km.lazyLoadBlob;
    switch (a.tag) {
      // first: one per frame a process pushes
      case 'WebSocketPush': {
        const e = this.d.ws.push(src, a.channelId, a.messageType, blob);
        return e === undefined ? undefined : { kind: e };
      }
      case 'Bind': {
        if (unsafeSource(gen, src)) return { kind: 'invalid-source' };
        const path = formatPathWithProcess(src, a.path);
        this.d.print(3, `http-server: binding ${path}, ${a.authenticated ? 'authenticated' : 'unauthenticated'}, ${a.localOnly ? 'local only' : 'open'}, ${a.cache ? 'cached' : 'dynamic'}`);
        if (a.cache && !blob) return { kind: 'no-blob' };
        this.d.bindings.http.add(path, {
          app: src,
          path,
          secureSubdomain: undefined,
          authenticated: a.authenticated,
          localOnly: a.localOnly,
          staticContent: a.cache ? blob : undefined,
        }, pidStr(src));
        return undefined;
      }
      case 'SecureBind': {
        if (unsafeSource(gen, src)) return { kind: 'invalid-source' };
        const path = formatPathWithProcess(src, a.path);
        const subdomain = secureSubdomain(src);
        this.d.print(3, `http-server: binding subdomain ${subdomain} with path ${path}, ${a.cache ? 'cached' : 'dynamic'}`);
        if (a.cache && !blob) return { kind: 'no-blob' };
        this.d.bindings.http.add(path, {
          app: src,
          path,
          secureSubdomain: subdomain,
          authenticated: true,
          localOnly: false,
          staticContent: a.cache ? blob : undefined,
        }, pidStr(src));
        return undefined;
      }
      case 'Unbind': {
        const path = formatPathWithProcess(src, a.path);
        this.d.bindings.http.add(path, {
          app: undefined,
          path,
          secureSubdomain: undefined,
          authenticated: false,
          localOnly: false,
          staticContent: undefined,
        }, pidStr(src));
        return undefined;
      }
      case 'WebSocketBind':
        if (unsafeSource(gen, src)) return { kind: 'invalid-source' };
        this.d.bindings.ws.add(formatPathWithProcess(src, a.path), {
          app: src,
          secureSubdomain: undefined,
          authenticated: a.authenticated,
          extension: a.extension,
        }, pidStr(src));
        return undefined;
      case 'WebSocketSecureBind':
        if (unsafeSource(gen, src)) return { kind: 'invalid-source' };
        this.d.bindings.ws.add(formatPathWithProcess(src, a.path), {
          app: src,
          secureSubdomain: secureSubdomain(src),
          authenticated: true,
          extension: a.extension,
        }, pidStr(src));
        return undefined;
      case 'WebSocketUnbind':
        this.d.bindings.ws.add(formatPathWithProcess(src, a.path), {
          app: undefined,
          secureSubdomain: undefined,
          authenticated: false,
          extension: false,
        }, pidStr(src));
        return undefined;
      case 'WebSocketOpen':
        return { kind: 'open-not-valid' };
      case 'WebSocketExtPushOutgoing': {
        const e = this.d.ws.push(src, a.channelId, a.messageType, blob, { id: km.id, desiredReplyType: a.desiredReplyType });
        return e === undefined ? 'no-ok' : { kind: e };
      }
      case 'WebSocketExtPushData':
        return { kind: 'ext-push-data-not-valid' };
      case 'WebSocketClose': {
        const e = this.d.ws.close(src, a.channelId);
        return e === undefined ? undefined : { kind: e };
      }
    }
  }

  /** An error reply: always sent, to the source, with the request's id. */
  private error(km: KernelMessage, gen: Generation, e: ServerError): void {
    this.ctx.send({
      id: km.id,
      target: km.source,
      message: {
        tag: 'response',
        val: [{ inherit: false, body: actionErrorBody(e, gen), metadata: undefined, capabilities: [] }, undefined],
      },
    });
  }
}
