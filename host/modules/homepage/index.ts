// `homepage:homepage:sys` (same name in both eras): the node's front door, in-host. As in the
// runtime it is an ordinary package, not public: processes need its messaging capability
// (`"request_capabilities": ["homepage:homepage:sys"]`) to AddToHomepage / RemoveFromHomepage /
// SetStylesheet (and, from 1.0 processes, RemoveOther and GetApps). Like the runtime's manifest
// it holds http-server's messaging capability and grants http-server its own; it binds its
// routes unprefixed through ordinary http-server Bind actions (kinode-modules.md §6.1):
//   static, public:  /our  /amionline  /our.js  /kinode.css  /kinode.svg  /bird-orange.svg  /bird-plain.svg
//   behind login:    /  (the start page)  /apps  /version  /favorite  /order
// The start page's live feed is a WebSocket channel of this module, opened with the docs'
// WebSocket API (WsRegister on `/`, target `homepage:homepage:sys`).

import type { Capability, Generation, KernelMessage, LazyLoadBlob, ProcessId } from '../../types.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import { MESSAGING, parseProcessId, pidStr } from '../../kernel/address.js';
import { HOMEPAGE_NAMES, HTTP_SERVER_NAMES } from '../../wire/names.js';
import { parseServerRequest, type ServerRequest } from '../../wire/http-server.js';
import {
  appJson,
  getAppsResponseBody,
  parseFavoriteBody,
  parseHomepageRequest,
  parseOrderBody,
  REMOVE_OTHER_CAP,
  SET_STYLESHEET_CAP,
  type HomepageRequest,
} from '../../wire/homepage.js';
import type { BoundPath } from '../http-server/index.js';
import { AppRegistry } from './apps.js';
import { BIRD_ORANGE_SVG, BIRD_PLAIN_SVG, KINODE_SVG, ourJs } from './assets.js';
import { buildPackages, LiveFeed, RECENT_SHOWN, Ring, type Snapshot } from './live.js';
import { startPage } from './start-page.js';
import { Stylesheet } from './stylesheet.js';

/** What `/version` answers: the runtime release whose wire this host speaks (both eras: the newer). */
export const RUNTIME_VERSION = '1.0.0';

const HOMEPAGE_PID = parseProcessId(HOMEPAGE_NAMES.v1);
const HTTP_SERVER_PID = parseProcessId(HTTP_SERVER_NAMES.v1);
const HTTP_SERVER_KEYS = new Set([HTTP_SERVER_NAMES.v0, HTTP_SERVER_NAMES.v1]);
const enc = new TextEncoder();

export interface HomepageModuleOptions {
  home: string;
  /** what http-server has bound now */
  boundPaths: () => BoundPath[];
  /** a plain output line */
  print: (line: string) => void;
}

export interface HomepageModule extends SystemModule {
  /** the entries added so far (tests) */
  readonly apps: AppRegistry;
}

export function createHomepageModule(opts: HomepageModuleOptions): HomepageModule {
  let ctx: ModuleContext | undefined;
  const apps = new AppRegistry(`${opts.home}/homepage`, opts.print);
  const css = new Stylesheet(`${opts.home}/homepage`, opts.print);
  const exits = new Ring<{ pid: string; at: number }>(RECENT_SHOWN);
  const live = new LiveFeed({
    observer: () => ctx?.observer,
    push: (channelId, text) => sendToServer({ WebSocketPush: { channel_id: channelId, message_type: 'Text' } }, { mime: undefined, bytes: enc.encode(text) }),
    snapshot: () => snapshot(),
    isOwnTraffic: (s, t) => (s === HOMEPAGE_NAMES.v1 && HTTP_SERVER_KEYS.has(t)) || (t === HOMEPAGE_NAMES.v1 && HTTP_SERVER_KEYS.has(s)),
  });

  function sendToServer(action: unknown, blob?: LazyLoadBlob): void {
    ctx?.send({
      target: { node: ctx.node, process: HTTP_SERVER_PID },
      message: { tag: 'request', val: { inherit: false, expectsResponse: undefined, body: enc.encode(JSON.stringify(action)), metadata: undefined, capabilities: [] } },
      lazyLoadBlob: blob,
    });
  }

  function bindStatic(path: string, mime: string, content: string, authenticated = false): void {
    sendToServer({ Bind: { path, authenticated, local_only: false, cache: true } }, { mime, bytes: enc.encode(content) });
  }

  async function snapshot(): Promise<Snapshot> {
    const c = ctx!;
    const obs = c.observer;
    const procs = obs?.processes() ?? [];
    const bindings = opts.boundPaths();
    const list = apps.list();
    const mem = process.memoryUsage();
    return {
      node: c.node,
      version: RUNTIME_VERSION,
      at: Date.now(),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed },
      packages: buildPackages(procs, list, bindings),
      widgets: list.filter((a) => a.widget !== undefined).map((a) => ({ id: a.id, label: a.label, widget: a.widget! })),
      processes: procs.map((p) => ({ ...p, memory: obs?.memoryOf(p.pid) ?? null })),
      // one row per process that is gone (an exit is reported once by the instance and once by its removal)
      exited: [...new Map(exits.recent(RECENT_SHOWN).map((e) => [e.pid, e])).values()].filter((e) => !procs.some((p) => p.pid === e.pid)),
      bindings,
      messages: live.messages.recent(RECENT_SHOWN),
    };
  }

  function respond(km: KernelMessage, status: number, headers: Record<string, string>, body?: string | Uint8Array): void {
    ctx!.respond(
      km,
      { inherit: false, body: enc.encode(JSON.stringify({ status, headers })), metadata: undefined, capabilities: [] },
      body === undefined ? undefined : { mime: headers['Content-Type'], bytes: typeof body === 'string' ? enc.encode(body) : body },
    );
  }

  async function http(km: KernelMessage, req: Extract<ServerRequest, { tag: 'Http' }>['req']): Promise<void> {
    const blob = km.lazyLoadBlob?.bytes ?? new Uint8Array();
    const post = req.method === 'POST';
    switch (req.boundPath) {
      case '':
        if (req.method !== 'GET' && req.method !== 'HEAD') return respond(km, 405, {});
        return respond(km, 200, { 'Content-Type': 'text/html; charset=utf-8' }, startPage(await snapshot()));
      case '/apps':
        return respond(km, 200, { 'Content-Type': 'application/json' }, JSON.stringify(apps.list().map((a) => appJson(a, 'both'))));
      case '/version':
        return respond(km, 200, { 'Content-Type': 'text/plain' }, RUNTIME_VERSION);
      case '/favorite': {
        if (!post) return respond(km, 405, {});
        try {
          const [id, fav] = parseFavoriteBody(blob);
          apps.setFavorite(id, fav);
        } catch {
          return respond(km, 400, {});
        }
        return respond(km, 200, {});
      }
      case '/order': {
        if (!post) return respond(km, 405, {});
        try {
          apps.setOrder(parseOrderBody(blob));
        } catch {
          return respond(km, 400, {});
        }
        return respond(km, 200, {});
      }
      default:
        return respond(km, 404, {});
    }
  }

  function fromServer(km: KernelMessage): void {
    if (km.message.tag !== 'request') return; // acks and errors of our own actions
    let r: ServerRequest;
    try {
      r = parseServerRequest(km.message.val.body);
    } catch {
      return;
    }
    switch (r.tag) {
      case 'Http':
        void http(km, r.req).catch((e: unknown) => {
          ctx?.print(0, `homepage: error answering ${r.tag === 'Http' ? r.req.url : ''}: ${(e as Error)?.message ?? e}`);
          respond(km, 500, {});
        });
        return;
      case 'WebSocketOpen':
        live.open(r.channelId);
        return;
      case 'WebSocketClose':
        live.close(r.channelId);
        return;
      case 'WebSocketPush':
        return; // the page sends nothing we act on
    }
  }

  /** Whether the request carries the 1.0 homepage capability `params` (issued by us). */
  function carries(km: KernelMessage, params: string): boolean {
    if (km.message.tag !== 'request') return false;
    const want = JSON.parse(params) as unknown;
    return km.message.val.capabilities.some((c: Capability) => {
      if (c.issuer.node !== ctx!.node || pidStr(c.issuer.process) !== HOMEPAGE_NAMES.v1) return false;
      try {
        return JSON.parse(c.params) === want;
      } catch {
        return false;
      }
    });
  }

  function fromProcess(km: KernelMessage, gen: Generation): void {
    if (km.message.tag !== 'request') return;
    let r: HomepageRequest;
    try {
      r = parseHomepageRequest(km.message.val.body, gen);
    } catch {
      return; // the runtime ignores what it cannot parse
    }
    const src: ProcessId = km.source.process;
    const id = pidStr(src);
    switch (r.tag) {
      case 'Add':
        apps.add(src, id, r);
        return;
      case 'Remove':
        apps.remove(id);
        return;
      case 'RemoveOther':
        if (carries(km, REMOVE_OTHER_CAP)) apps.remove(r.id);
        return;
      case 'GetApps':
        ctx!.respond(km, { inherit: false, body: getAppsResponseBody(apps.list()), metadata: undefined, capabilities: [] });
        return;
      case 'SetStylesheet': {
        // 0.9: only settings:settings:sys; 1.0: whoever carries our "SetStylesheet" capability
        const allowed = gen === 0 ? id === 'settings:settings:sys' : carries(km, SET_STYLESHEET_CAP);
        if (!allowed) return;
        css.set(r.css);
        bindStatic('/kinode.css', 'text/css', r.css);
        opts.print('homepage: updated kinode.css!');
        return;
      }
    }
  }

  return {
    names: HOMEPAGE_NAMES,
    public: false,
    apps,

    start(c: ModuleContext): void {
      ctx = c;
      const cap = (pid: ProcessId): Capability => ({ issuer: { node: c.node, process: pid }, params: MESSAGING });
      // the runtime's manifest: request http-server's cap, grant it ours
      c.grantCapabilities(HOMEPAGE_PID, [cap(HTTP_SERVER_PID)]);
      c.grantCapabilities(HTTP_SERVER_PID, [cap(HOMEPAGE_PID)]);
      c.onProcessExit((pid) => exits.push({ pid: pidStr(pid), at: Date.now() }));
      bindStatic('/our', 'text/html', c.node);
      bindStatic('/amionline', 'text/html', 'yes');
      bindStatic('/our.js', 'application/javascript', ourJs(c.node));
      bindStatic('/kinode.css', 'text/css', css.get());
      bindStatic('/kinode.svg', 'image/svg+xml', KINODE_SVG);
      bindStatic('/bird-orange.svg', 'image/svg+xml', BIRD_ORANGE_SVG);
      bindStatic('/bird-plain.svg', 'image/svg+xml', BIRD_PLAIN_SVG);
      const dynamic = { authenticated: true, local_only: false, cache: false };
      for (const path of ['/', '/apps', '/version', '/favorite', '/order']) sendToServer({ Bind: { path, ...dynamic } });
    },

    handle(km: KernelMessage, gen: Generation): void {
      if (HTTP_SERVER_KEYS.has(pidStr(km.source.process)) && km.source.node === ctx?.node) fromServer(km);
      else fromProcess(km, gen);
    },

    stop(): void {
      live.stop();
    },
  };
}
