// A client for tests and tools: an in-host module (`driver:kinode-host:sys`, public, exempt
// from capability checks like the runtime's own kernel) that sends requests to processes and
// collects what they send it. It is a client of the kernel, not a stand-in for any part of it.
// Only the test harness registers it (NodeOptions.driver); a CLI node never has it, so no
// process can park data in it and `tester:tester:sys` is free for the runtime's tester.

import type { Address, Generation, KernelMessage, LazyLoadBlob } from '../types.js';
import { addrStr, IdSource, parseAddress, parseProcessId } from './address.js';
import type { ModuleContext, SystemModule } from './module.js';
import { DRIVER_NAMES } from '../wire/names.js';

export interface DriverReply {
  source: string;
  body: Uint8Array;
  text: string;
  json<T = unknown>(): T;
  blob: LazyLoadBlob | undefined;
}

export interface DriverRequestOptions {
  /** seconds; omitted -> fire and forget */
  expects?: number;
  blob?: { mime?: string; bytes: Uint8Array | string };
  inherit?: boolean;
}

export const DRIVER_NAME = DRIVER_NAMES.v1;
const DRIVER_PID = parseProcessId(DRIVER_NAME);

export class Driver implements SystemModule {
  readonly names = DRIVER_NAMES;
  readonly public = true;
  private ctx!: ModuleContext;
  private readonly pending = new Map<bigint, { resolve: (r: DriverReply) => void; timer: NodeJS.Timeout }>();
  /** requests processes sent to the driver */
  readonly received: DriverReply[] = [];
  private readonly waiters: Array<() => void> = [];

  start(ctx: ModuleContext): void {
    this.ctx = ctx;
  }

  handle(km: KernelMessage, _gen: Generation): void {
    const body = km.message.tag === 'request' ? km.message.val.body : km.message.val[0].body;
    const reply = makeReply(addrStr(km.source), body, km.lazyLoadBlob);
    if (km.message.tag === 'response') {
      const p = this.pending.get(km.id);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(km.id);
        p.resolve(reply);
      }
      return;
    }
    this.received.push(reply);
    for (const w of this.waiters.splice(0)) w();
  }

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  /** Send a request; with `expects`, resolve with the response or reject after that many seconds. */
  request(target: string | Address, body: unknown, opts: DriverRequestOptions = {}): Promise<DriverReply> {
    const t = typeof target === 'string' ? parseAddress(target) : target;
    const bytes =
      body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
    const blob = opts.blob
      ? {
          mime: opts.blob.mime,
          bytes: typeof opts.blob.bytes === 'string' ? new TextEncoder().encode(opts.blob.bytes) : opts.blob.bytes,
        }
      : undefined;
    const id = randomId();
    const expects = opts.expects;
    return new Promise((resolve, reject) => {
      if (expects !== undefined) {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`driver: no response from ${addrStr(t)} within ${expects} s`));
        }, expects * 1000);
        this.pending.set(id, { resolve, timer });
      }
      this.ctx.send({
        id,
        target: t,
        rsvp: expects !== undefined ? { node: this.ctx.node, process: DRIVER_PID } : undefined,
        message: {
          tag: 'request',
          val: {
            inherit: opts.inherit ?? false,
            expectsResponse: expects !== undefined ? BigInt(expects) : undefined,
            body: bytes,
            metadata: undefined,
            capabilities: [],
          },
        },
        lazyLoadBlob: blob,
      });
      if (expects === undefined) resolve(makeReply(addrStr(t), new Uint8Array(), undefined));
    });
  }

  /** Wait until a received request satisfies `pred`. */
  async waitFor(pred: (r: DriverReply) => boolean, timeoutMs = 10000): Promise<DriverReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('driver: timed out waiting for a request');
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }
}

const ids = new IdSource();
function randomId(): bigint {
  return ids.take();
}

function makeReply(source: string, body: Uint8Array, blob: LazyLoadBlob | undefined): DriverReply {
  const text = new TextDecoder().decode(body);
  return { source, body, text, json: <T>() => JSON.parse(text) as T, blob };
}
