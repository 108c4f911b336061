// `http-client:distro:sys` (v0 `http_client:distro:sys`): outbound HTTP and WebSocket client
// connections for processes. Not public: processes need its messaging capability, and it can
// only answer processes that granted it theirs (the kernel checks both).

import type { Generation, KernelMessage } from '../../types.js';
import { pidStr } from '../../kernel/address.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import { ActionHandler, type ActionLimits } from './actions.js';
import { createHttpAgent, DEFAULT_MAX_RESPONSE } from './http-request.js';
import { WsChannels } from './ws-channels.js';
import { HTTP_CLIENT_NAMES } from '../../wire/names.js';

export { HTTP_CLIENT_NAMES, DEFAULT_MAX_RESPONSE };

export interface HttpClientModuleOptions {
  /** a plain output line (where the runtime writes to stdout rather than the terminal) */
  print: (line: string) => void;
  limits?: Partial<ActionLimits>;
  /** `--max-response`; undefined: DEFAULT_MAX_RESPONSE */
  maxResponseBytes?: number | undefined;
  /** `--ws-send-buffer`: bytes queued to a process's WebSocket peer before it counts as not reading */
  wsSendBufferBytes?: number | undefined;
}


const DEFAULT_LIMITS: ActionLimits = {
  graceMs: 250,
  unawaitedTimeoutMs: 600_000,
  defaultHandshakeMs: 30_000,
  maxResponseBytes: DEFAULT_MAX_RESPONSE,
};

export interface HttpClientModule extends SystemModule {
  /** WebSocket channel ids held by a process (`process:package:publisher`), for tests */
  channelsOf(pid: string): number[];
  /** Http requests in flight, for tests */
  readonly inflight: number;
}

export function createHttpClientModule(opts: HttpClientModuleOptions): HttpClientModule {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  if (opts.maxResponseBytes !== undefined) limits.maxResponseBytes = opts.maxResponseBytes;
  const agent = createHttpAgent();
  let handler: ActionHandler | undefined;
  let channels: WsChannels | undefined;

  return {
    names: HTTP_CLIENT_NAMES,
    public: false,

    start(ctx: ModuleContext): void {
      channels = new WsChannels({
        deliver: (owner, body, blob) =>
          // fresh random ids (ctx.send's default) for frames: see docs/http-client.md
          ctx.send({
            target: owner,
            message: {
              tag: 'request',
              val: { inherit: false, expectsResponse: undefined, body, metadata: undefined, capabilities: [] },
            },
            lazyLoadBlob: blob,
          }),
        print: (v, text) => ctx.print(v, text),
        println: opts.print,
      }, opts.wsSendBufferBytes);
      handler = new ActionHandler(ctx, channels, agent, limits);
      const ch = channels;
      const h = handler;
      ctx.onProcessExit((pid) => {
        h.processExited(pidStr(pid));
        ch.dropOwner(pidStr(pid));
      });
    },

    handle(km: KernelMessage, senderGeneration: Generation): void {
      handler?.handle(km, senderGeneration);
    },

    async stop(): Promise<void> {
      handler?.stop();
      channels?.closeAll();
      await agent.destroy().catch(() => {});
    },

    channelsOf: (pid: string) => channels?.channelsOf(pid) ?? [],
    get inflight() {
      return handler?.inflightCount ?? 0;
    },
  };
}
