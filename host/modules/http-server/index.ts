// `http-server:distro:sys` (v0 `http_server:distro:sys`): the HTTP and WebSocket server that
// processes bind paths on, served on the node's one port. Not public: processes need its
// messaging capability, and it can only message processes that granted it theirs (the kernel
// checks both). The node creates the http.Server; this module attaches its listeners.

import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Generation, KernelMessage } from '../../types.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import { ActionHandler } from './actions.js';
import { Auth, loadJwtSecret } from './auth.js';
import { BodyBudget } from './body-budget.js';
import { loginPage } from './login-page.js';
import { HTTP_SERVER_NAMES, HttpPipeline } from './pipeline.js';
import type { BodySource } from './body-source.js';
import { Bindings } from './routes.js';
import { WsServer } from './websockets.js';
import { pidStr } from '../../kernel/address.js';

export { HTTP_SERVER_NAMES };

/** `--max-ws-frame` default: tungstenite's frame limit (the runtime's 64 MiB message limit is the HTTP body limit here) */
export const DEFAULT_MAX_WS_FRAME = 16 * 1024 * 1024;
/** `--max-body-inflight` default: two bodies at the default 64 MiB limit */
export const DEFAULT_MAX_BODY_INFLIGHT = 128 * 1024 * 1024;

export interface HttpServerModuleOptions {
  server: Server;
  home: string;
  nodeName: string;
  /** undefined: a password is generated and printed once at boot */
  password: string | undefined;
  /** 408 after this long without an answer from the process (the runtime's 15 s) */
  requestTimeoutMs: number;
  /** request bodies past this answer 413 */
  maxBodyBytes: number;
  /** limits of docs/limits-http.md; undefined: the default there */
  maxBodyInflightBytes?: number | undefined;
  maxWsFrameBytes?: number | undefined;
  wsSendBufferBytes?: number | undefined;
  wsFrameTimeoutMs?: number | undefined;
  maxBindingsPerProcess?: number | undefined;
  /** a plain output line */
  print: (line: string) => void;
}

export interface HttpServerModule extends SystemModule {
  /** open WebSocket channel ids of a process (`process:package:publisher`), for tests */
  channelsOf(pid: string): number[];
  /** HTTP requests waiting for a process's answer, for tests */
  readonly inflight: number;
  /** the node password (given or generated) */
  readonly password: string | undefined;
  /** what is bound now (for the homepage): HTTP and WebSocket paths with their owners */
  boundPaths(): BoundPath[];
}

export interface BoundPath {
  kind: 'http' | 'ws';
  /** the stored path, e.g. `/<process id>/api` */
  path: string;
  /** `process:package:publisher` */
  owner: string;
  authenticated: boolean;
  /** static content (served without the process) */
  cached: boolean;
  secureSubdomain: string | undefined;
}

export function createHttpServerModule(opts: HttpServerModuleOptions): HttpServerModule {
  let ctx: ModuleContext | undefined;
  let auth: Auth | undefined;
  let actions: ActionHandler | undefined;
  const bindings = new Bindings();
  const print = (v: number, text: string): void => ctx?.print(v, text);
  const pipeline = new HttpPipeline({
    ctx: () => ctx,
    bindings,
    auth: () => auth,
    loginHtml: loginPage(opts.nodeName),
    requestTimeoutMs: opts.requestTimeoutMs,
    maxBodyBytes: opts.maxBodyBytes,
    bodyBudget: new BodyBudget(opts.maxBodyInflightBytes ?? DEFAULT_MAX_BODY_INFLIGHT),
    print,
  });
  const ws = new WsServer({
    ctx: () => ctx,
    bindings,
    auth: () => auth,
    maxPayload: opts.maxWsFrameBytes ?? DEFAULT_MAX_WS_FRAME,
    sendBufferBytes: opts.wsSendBufferBytes,
    frameTimeoutMs: opts.wsFrameTimeoutMs,
    print,
    println: opts.print,
    fallThrough: (req, socket, head) => answerUpgradeAsHttp(pipeline, req, socket, head),
  });
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => pipeline.handle(req, res);
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => ws.handleUpgrade(req, socket, head);

  return {
    names: HTTP_SERVER_NAMES,
    public: false,

    start(c: ModuleContext): void {
      ctx = c;
      auth = new Auth(opts.nodeName, loadJwtSecret(opts.home), opts.password);
      if (auth.generatedPassword) opts.print(`login password: ${auth.password}`);
      actions = new ActionHandler(c, { bindings, ws, print, println: opts.print, maxBindingsPerProcess: opts.maxBindingsPerProcess });
      opts.server.on('request', onRequest);
      opts.server.on('upgrade', onUpgrade);
    },

    handle(km: KernelMessage, senderGeneration: Generation): void {
      if (km.message.tag === 'response') pipeline.onResponse(km);
      else actions?.handle(km, senderGeneration);
    },

    stop(): void {
      opts.server.off('request', onRequest);
      opts.server.off('upgrade', onUpgrade);
      pipeline.stop();
      ws.stop();
    },

    channelsOf: (pid: string) => ws.channelsOf(pid),
    get inflight() {
      return pipeline.inflight;
    },
    get password() {
      return auth?.password;
    },
    boundPaths: () => listBindings(bindings),
  };
}

function listBindings(bindings: Bindings): BoundPath[] {
  const out: BoundPath[] = [];
  for (const { value: b } of bindings.http.list()) {
    if (b.app === undefined || b.rpc) continue;
    out.push({ kind: 'http', path: b.path, owner: pidStr(b.app), authenticated: b.authenticated, cached: b.staticContent !== undefined, secureSubdomain: b.secureSubdomain });
  }
  for (const { pattern, value: b } of bindings.ws.list()) {
    if (b.app === undefined) continue;
    out.push({ kind: 'ws', path: pattern, owner: pidStr(b.app), authenticated: b.authenticated, cached: false, secureSubdomain: b.secureSubdomain });
  }
  return out;
}

/**
 * An upgrade request that is not a WebSocket for a bound path goes through the HTTP pipeline,
 * as in the runtime: a response object on the raw socket, closed when done. Its body is what
 * arrived with the headers (`head`); upgrade requests normally have none.
 */
function answerUpgradeAsHttp(pipeline: HttpPipeline, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  const body: BodySource = async (limit) => (head.length > limit ? { kind: 'too-large' } : { kind: 'ok', bytes: head });
  pipeline.handle(req, res, body);
}
