// The HTTP request pipeline (fact sheet 3.4), in the runtime's order:
//   fixed routes (`/login`) -> route lookup (404) -> authentication (login page, 401/307 for
//   secure subdomains) -> local_only (403) -> static content for GET -> RPC endpoint -> body
//   (413 past the limit) -> IncomingHttpRequest to the process -> its answer (500 if unreadable,
//   408 when none arrives in time).
// `/login` (page, its Argon2 script, and the POST) is handled before everything else; the POST
// is rate limited per client address (login-limit.ts).

import { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Address, KernelMessage, LazyLoadBlob, ProcessId } from '../../types.js';
import { IdSource, parseProcessId, pidStr } from '../../kernel/address.js';
import type { ModuleContext } from '../../kernel/module.js';
import {
  httpRequestBody,
  parseHttpResponse,
  parseLoginInfo,
  parseRpcMessage,
  rpcResponseBody,
  type RpcMessage,
} from '../../wire/http-server.js';
import type { Auth } from './auth.js';
import type { BodyBudget } from './body-budget.js';
import { cookieName } from './auth.js';
import { LOGIN_SCRIPT_PATH, loginScript } from './login-page.js';
import { LoginLimiter } from './login-limit.js';
import { normalizePath, type Bindings, type HttpBinding } from './routes.js';
import {
  authorityOf,
  hasDuplicateHost,
  hostnameOf,
  isLoopbackPeer,
  peerSocketAddr,
  queryParams,
  serializeHeaders,
  splitTarget,
} from './request-info.js';
import { HTTP_SERVER_NAMES } from '../../wire/names.js';
import { PendingTable } from '../../kernel/pending-table.js';
import { streamBody, type BodySource } from './body-source.js';
import { responseHeaders, mayHaveBody, setHeaderSafe, reply, replyText, replyHtml, replyJson, badRequest, tooLarge } from './replies.js';

export { HTTP_SERVER_NAMES };

/** the runtime's limit on `POST /login` bodies */
const LOGIN_BODY_LIMIT = 16 * 1024;

interface Pending {
  kind: 'http' | 'rpc';
  res: ServerResponse;
  /** performance.now() at which it is answered 408 */
  deadline: number;
}

export interface PipelineOptions {
  ctx: () => ModuleContext | undefined;
  bindings: Bindings;
  auth: () => Auth | undefined;
  loginHtml: string;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  /** request-body bytes held at once (docs/limits-http.md); undefined: no limit */
  bodyBudget?: BodyBudget;
  /** verbosity-filtered print */
  print: (verbosity: number, text: string) => void;
}

// one randomFillSync per 512 ids: a call per request cost ~6 µs of the main thread
const ids = new IdSource();
export function randomU64(): bigint {
  return ids.take();
}

const EMPTY_BODY = Buffer.alloc(0);

/** What the route lookup found for a request, carried through the steps after it. */
interface Routed {
  binding: HttpBinding;
  app: ProcessId;
  urlParams: Array<[string, string]>;
  headers: Map<string, string>;
  qp: Map<string, string>;
  /** the Host header, `localhost` when absent */
  authority: string;
  originalPath: string;
  method: string;
}

/**
 * No request body without Content-Length or Transfer-Encoding (RFC 9112 §6.3), nor with a
 * Content-Length of 0: such a request (every GET) is forwarded at once, without waiting for the
 * stream's end. Read from rawHeaders: `req.headers` builds an object on first use.
 */
function hasNoBody(rawHeaders: string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (rawHeaders[i + 1]!.trim() !== '0') return false;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      return false;
    }
  }
  return true;
}

export class HttpPipeline {
  /**
   * Requests waiting for a process's answer, in the order they were sent. Every entry waits the
   * same `requestTimeoutMs`, so insertion order is deadline order: one timer, armed for the
   * oldest entry, answers 408s (a timer per request cost ~4 µs of the kernel thread each).
   */
  private readonly pending = new PendingTable<Pending>();
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly loginLimiter = new LoginLimiter();
  /** seconds put in `expects-response` of forwarded requests (the runtime's 15) */
  private readonly expectsSecs: bigint;

  constructor(private readonly o: PipelineOptions) {
    this.expectsSecs = BigInt(Math.max(1, Math.ceil(o.requestTimeoutMs / 1000)));
  }

  get inflight(): number {
    return this.pending.size;
  }

  /**
   * Handle one request; never throws (errors become 500). Without `body`, the request stream is
   * read. A request without a body to an unauthenticated binding runs synchronously to the
   * message to the process: no promise, no stream listener.
   */
  handle(req: IncomingMessage, res: ServerResponse, body?: BodySource): void {
    try {
      const p = this.run(req, res, body);
      if (p instanceof Promise) p.catch((e: unknown) => this.failed(req, res, e));
    } catch (e) {
      this.failed(req, res, e);
    }
  }

  private failed(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    this.o.print(0, `http-server: error handling ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`);
    if (!res.headersSent && !res.destroyed) reply(res, 500);
    else res.destroy();
  }

  /** The pipeline up to authentication; a promise only where something is awaited. */
  private run(req: IncomingMessage, res: ServerResponse, body: BodySource | undefined): Promise<void> | void {
    const { path: rawPath, query } = splitTarget(req.url);
    const originalPath = normalizePath(rawPath);
    const method = req.method ?? 'GET';
    this.o.print(2, `http-server: request for ${originalPath}`);
    if (hasDuplicateHost(req.rawHeaders)) return badRequest(req, res, 'more than one Host header');

    if (rawPath === '/login' || rawPath === '/login/') {
      if (method === 'GET') return replyHtml(res, 200, this.o.loginHtml);
      if (method === 'POST') return this.login(req, res, body ?? streamBody(req), query);
    }
    if (rawPath === LOGIN_SCRIPT_PATH && method === 'GET') {
      res.statusCode = 200;
      res.setHeader('content-type', 'application/javascript');
      res.setHeader('cache-control', 'public, max-age=86400');
      res.end(loginScript());
      return;
    }

    const headers = serializeHeaders(req.rawHeaders);
    const match = this.o.bindings.lookupHttp(originalPath);
    if (!match || match.value.app === undefined) {
      this.o.print(2, `http-server: no route found for ${originalPath}`);
      return reply(res, 404);
    }
    const binding = match.value;
    const app = binding.app!;
    const authority = authorityOf(headers);
    const qp = queryParams(query);

    const r: Routed = { binding, app, urlParams: match.params, headers, qp, authority, originalPath, method };
    if (binding.authenticated) return this.authenticate(req, res, body, r);
    return this.afterAuth(req, res, body, r);
  }

  private async authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    body: BodySource | undefined,
    r: Routed,
  ): Promise<void> {
    const { binding, headers, qp, authority } = r;
    const auth = this.o.auth();
    if (!auth) return reply(res, 503);
    if (binding.secureSubdomain !== undefined) {
      const label = hostnameOf(authority).split('.')[0] ?? '';
      if (label === '') return replyText(res, 401, 'attempted to access secure subdomain without host');
      if (label !== binding.secureSubdomain) {
        const qs = qp.size > 0 ? `?${[...qp].map(([k, v]) => `${k}=${v}`).join('&')}` : '';
        const proto = headers.get('x-forwarded-proto') || 'http';
        res.statusCode = 307;
        setHeaderSafe(res, 'location', `${proto}://${binding.secureSubdomain}.${authority}${r.originalPath}${qs}`);
        res.end();
        return;
      }
      if (!(await auth.valid(headers.get('cookie') ?? '', pidStr(r.app)))) return replyHtml(res, 200, this.o.loginHtml);
    } else if (!(await auth.valid(headers.get('cookie') ?? '', undefined))) {
      return replyHtml(res, 200, this.o.loginHtml);
    }
    return this.afterAuth(req, res, body, r);
  }

  /** local_only, static content, the body, then the message to the process. */
  private afterAuth(
    req: IncomingMessage,
    res: ServerResponse,
    body: BodySource | undefined,
    r: Routed,
  ): Promise<void> | void {
    const binding = r.binding;
    if (binding.localOnly && !isLoopbackPeer(req)) return reply(res, 403);

    if (r.method === 'GET' && binding.staticContent) {
      res.statusCode = 200;
      setHeaderSafe(res, 'content-type', binding.staticContent.mime ?? 'text/plain');
      res.end(Buffer.from(binding.staticContent.bytes));
      return;
    }

    if (body === undefined && hasNoBody(req.rawHeaders)) {
      if (binding.rpc) return this.rpc(res, EMPTY_BODY);
      return this.forward(req, res, r, EMPTY_BODY);
    }
    return this.withBody(req, res, body ?? streamBody(req), r);
  }

  private async withBody(
    req: IncomingMessage,
    res: ServerResponse,
    body: BodySource,
    r: Routed,
  ): Promise<void> {
    if (!(await this.admitBody(req, res))) return;
    const got = await body(this.o.maxBodyBytes);
    if (got.kind === 'aborted') return void res.destroy();
    if (got.kind === 'too-large') return tooLarge(req, res);

    if (r.binding.rpc) return this.rpc(res, got.bytes);
    this.forward(req, res, r, got.bytes);
  }

  /**
   * Wait until the body budget has room for this request's body; it is held until the response
   * is over. False if the client went away while waiting.
   */
  private async admitBody(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const budget = this.o.bodyBudget;
    if (!budget) return true;
    const declared = Number(req.headers['content-length'] ?? NaN);
    let need = 0;
    if (Number.isFinite(declared)) need = declared <= this.o.maxBodyBytes ? declared : 0; // too large: 413 unread
    else if (req.headers['transfer-encoding'] !== undefined) need = this.o.maxBodyBytes;
    if (need === 0) return true;
    const r = budget.reserve(need);
    if (res.destroyed || res.writableFinished) {
      r.release();
      return false;
    }
    let gone!: () => void;
    const left = new Promise<false>((resolve) => {
      gone = () => resolve(false);
    });
    // 'finish' too: a response on an upgrade's socket is detached when done and never closes
    res.once('finish', r.release);
    res.once('close', () => {
      r.release();
      gone();
    });
    if (budget.waiting > 0) this.o.print(2, `http-server: ${budget.waiting} request bodies wait for room (${budget.reserved} bytes held)`);
    return Promise.race([r.admitted.then(() => true), left]);
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    r: Routed,
    bytes: Buffer,
  ): void {
    const ctx = this.o.ctx();
    if (!ctx) return reply(res, 503);
    const id = randomU64();
    const reqBody = httpRequestBody({
      sourceSocketAddr: peerSocketAddr(req),
      method: r.method,
      url: `http://${hostnameOf(r.authority)}${r.originalPath}`,
      boundPath: r.binding.path,
      headers: r.headers,
      urlParams: r.urlParams,
      queryParams: r.qp,
    });
    this.wait(id, 'http', res);
    ctx.send({
      id,
      target: { node: ctx.node, process: r.app },
      message: {
        tag: 'request',
        val: { inherit: false, expectsResponse: this.expectsSecs, body: reqBody, metadata: undefined, capabilities: [] },
      },
      lazyLoadBlob: { mime: undefined, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) },
      onMailboxFull: () => this.unavailable(id, res),
      // admitBody reserved these bytes: a slow process's mailbox need not refuse them again
      bytesBudgeted: this.o.bodyBudget !== undefined,
    });
  }

  /** The process's mailbox is full (kernel): 503 at once rather than a 408 later. */
  private unavailable(id: bigint, res: ServerResponse): void {
    const p = this.pending.get(id);
    if (p) {
      if (p.res !== res) return;
      this.pending.delete(id);
    }
    if (!res.headersSent) res.setHeader('Retry-After', '1');
    reply(res, 503);
  }

  private wait(id: bigint, kind: Pending['kind'], res: ServerResponse): void {
    // a reused id goes to the back, keeping deadline order
    this.pending.set(id, { kind, res, deadline: performance.now() + this.o.requestTimeoutMs });
    if (this.timeoutTimer === undefined) this.timeoutTimer = setTimeout(this.expire, this.o.requestTimeoutMs);
  }

  /** 408 for every request past its deadline; the timer is armed again for the oldest left. */
  private readonly expire = (): void => {
    this.timeoutTimer = undefined;
    const now = performance.now();
    for (let e = this.pending.oldest(); e !== undefined; e = this.pending.oldest()) {
      const [id, p] = e;
      if (p.deadline > now) {
        // timers run on the loop's cached clock and may fire a little early: at least 1 ms
        this.timeoutTimer = setTimeout(this.expire, Math.max(1, Math.ceil(p.deadline - now)));
        return;
      }
      this.pending.delete(id);
      reply(p.res, 408);
    }
  };

  /** A Response from a process: the answer to a forwarded request, if one with its id waits. */
  onResponse(km: KernelMessage): boolean {
    if (km.message.tag !== 'response') return false;
    const p = this.pending.get(km.id);
    if (!p) return false;
    this.pending.delete(km.id);
    const response = km.message.val[0];
    if (p.res.destroyed || p.res.writableEnded) return true;
    if (p.kind === 'rpc') {
      const blob = km.lazyLoadBlob
        ? { mime: km.lazyLoadBlob.mime, bytes: new TextEncoder().encode(Buffer.from(km.lazyLoadBlob.bytes).toString('base64')) }
        : undefined;
      p.res.statusCode = 200;
      p.res.setHeader('content-type', 'text/html');
      p.res.end(Buffer.from(rpcResponseBody(response.body, blob)));
      return true;
    }
    let parsed;
    try {
      parsed = parseHttpResponse(response.body);
    } catch {
      reply(p.res, 500);
      return true;
    }
    if (parsed.status < 100 || parsed.status > 999) {
      reply(p.res, 500);
      return true;
    }
    const res = p.res;
    // one writeHead with a flat list (no header object, no per-header validate + setHeader),
    // then one end with a view on the blob, not a copy
    const blob = km.lazyLoadBlob?.bytes;
    const list = responseHeaders(parsed.headers);
    // what Node adds itself when end() sends the headers: a length, unless no body may follow
    if (mayHaveBody(res.req.method, parsed.status)) list.push('Content-Length', String(blob ? blob.byteLength : 0));
    res.writeHead(parsed.status, list);
    res.end(blob ? Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength) : undefined);
    return true;
  }

  // ---------------------------------------------------------------- login

  private async login(req: IncomingMessage, res: ServerResponse, body: BodySource, query: string): Promise<void> {
    const auth = this.o.auth();
    if (!auth) return reply(res, 503);
    const peer = req.socket.remoteAddress ?? '';
    const wait = this.loginLimiter.retryAfter(peer);
    if (wait > 0) {
      res.setHeader('retry-after', String(wait));
      req.resume();
      return replyJson(res, 429, 'Too many failed logins; try again later');
    }
    const got = await body(Math.min(LOGIN_BODY_LIMIT, this.o.maxBodyBytes));
    if (got.kind === 'aborted') return void res.destroy();
    if (got.kind === 'too-large') return tooLarge(req, res);
    let info;
    try {
      info = parseLoginInfo(got.bytes);
    } catch {
      return replyJson(res, 400, 'Failed to parse login info');
    }
    if (!(await auth.checkLogin(info))) {
      this.loginLimiter.failed(peer);
      return replyJson(res, 500, 'Failed to decode keyfile: incorrect password');
    }
    this.loginLimiter.succeeded(peer);
    // v1 keeps only [A-Za-z0-9.:-] of the subdomain
    const sub = (info.subdomain ?? '').replace(/[^A-Za-z0-9.:-]/g, '');
    const subdomain = sub === '' ? undefined : sub;
    const token = await auth.issue(subdomain);
    const redirect = queryParams(query).get('redirect');
    // exactly the runtime's header: no attributes, so a host-only session cookie with path `/`
    // (the default path of `/login`) that page scripts can read (the WebSocket API needs it)
    res.setHeader('set-cookie', `${cookieName(auth.node, subdomain)}=${token};`);
    if (redirect !== undefined) {
      // a path on this host only (the runtime would follow any text here)
      const target = redirect.startsWith('/') && !redirect.startsWith('//') ? redirect : '/';
      const proto = serializeHeaders(req.rawHeaders).get('x-forwarded-proto') || 'http';
      res.statusCode = 303;
      setHeaderSafe(res, 'location', `${proto}://${authorityOf(serializeHeaders(req.rawHeaders))}${target}`);
      res.setHeader('content-length', '0');
      res.end();
      return;
    }
    replyJson(res, 200, 'logged in');
  }

  // ---------------------------------------------------------------- RPC (kit)

  private rpc(res: ServerResponse, bytes: Buffer): void {
    const ctx = this.o.ctx();
    if (!ctx) return reply(res, 503);
    let msg: RpcMessage;
    let target: ProcessId;
    try {
      msg = parseRpcMessage(bytes);
      target = parseProcessId(msg.process);
    } catch {
      return reply(res, 400); // bad JSON or a bad process id
    }
    this.o.print(2, `http-server: passing on RPC message to ${pidStr(target)}`);
    let blob: LazyLoadBlob | undefined;
    if (msg.data !== undefined && isBase64(msg.data)) blob = { mime: msg.mime, bytes: new Uint8Array(Buffer.from(msg.data, 'base64')) };
    const id = randomU64();
    const node = msg.node ?? ctx.node;
    const gen = ctx.generationOf(target);
    const [processName, packageName, publisherNode] = (gen === 0 ? HTTP_SERVER_NAMES.v0 : HTTP_SERVER_NAMES.v1).split(':') as [string, string, string];
    const rsvp: Address | undefined =
      msg.expectsResponse !== undefined ? { node: ctx.node, process: { processName, packageName, publisherNode } } : undefined;
    if (msg.expectsResponse !== undefined) this.wait(id, 'rpc', res);
    ctx.send({
      id,
      target: { node, process: target },
      rsvp,
      message: {
        tag: 'request',
        val: {
          inherit: false,
          expectsResponse: msg.expectsResponse,
          body: new TextEncoder().encode(msg.body ?? ''),
          metadata: msg.metadata,
          capabilities: [],
        },
      },
      lazyLoadBlob: blob,
      onMailboxFull: () => this.unavailable(id, res),
    });
    if (msg.expectsResponse === undefined) reply(res, 200); // no-op after a 503
  }

  /** Node shutdown: forget waiting requests (their sockets are closed by the node). */
  stop(): void {
    clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    for (const p of this.pending.values()) {
      if (!p.res.writableEnded) p.res.destroy();
    }
    this.pending.clear();
  }
}

const isBase64 = (s: string): boolean => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);

