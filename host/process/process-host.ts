// The process side of Kinode's kernel, living in the process's worker: the state the runtime
// keeps per process (prompting message, contexts of outstanding requests, last blob, backlog)
// and the `standard` imports built on it. Routing, capabilities, timers and state storage stay
// in the kernel on the main thread; this side talks to it through KernelLink.

import type {
  Address,
  Capability,
  Delivery,
  KernelMessage,
  LazyLoadBlob,
  Message,
  OnExit,
  ProcessId,
  Request,
  Response,
  SendError,
} from '../types.js';
import { addrStr, IdSource, sameAddress } from '../kernel/address.js';
import { IdTable } from '../kernel/id-table.js';
import type { KernelLink } from './kernel-link.js';
import { threadBlobPool } from './blob-pool.js';

interface Outstanding {
  context: Uint8Array | undefined;
  prompting: KernelMessage | undefined;
}

type Result<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };

/** Thrown from an import to trap the process (jco turns a plain Error into a trap). */
export class ProcessTrap extends Error {}

export class ProcessHost {
  private prompting: KernelMessage | undefined;
  private lastBlob: LazyLoadBlob | undefined;
  private blobPresent = false;
  /**
   * Outstanding requests by id. An IdTable, not a Map: with many requests in flight the live count
   * swings with each batch, and a Map rehashes into a new table every few dozen inserts; after a
   * burst had grown it, each new table was fresh memory, page-faulted on every rehash
   * (docs/performance.md §33).
   */
  private readonly contexts = new IdTable<Outstanding>();
  private readonly backlog: Delivery[] = [];
  private readonly ids = new IdSource();
  private readonly blobs = threadBlobPool();

  constructor(
    private readonly link: KernelLink,
    private readonly ourAddress: Address,
    private readonly generation: 0 | 1,
    private onExit: OnExit,
    private readonly verbosity: number,
  ) {}

  /** The object handed to jco as `kinode:process/standard`. */
  imports(): Record<string, (...args: never[]) => unknown> {
    const std: Record<string, (...args: never[]) => unknown> = {
      printToTerminal: (verbosity: number, message: string) => {
        if (verbosity <= this.verbosity) this.link.post({ t: 'print', verbosity, text: message });
      },
      getOnExit: () => this.onExit,
      setOnExit: (onExit: OnExit) => {
        this.onExit = onExit;
        this.link.post({ t: 'on-exit', onExit });
      },
      getState: () => this.getState(),
      setState: (bytes: Uint8Array) => {
        this.link.call({ op: 'set-state', bytes });
        this.afterInternalAwait(false);
      },
      clearState: () => {
        this.link.call({ op: 'clear-state' });
        this.afterInternalAwait(false);
      },
      spawn: (
        name: string | undefined,
        wasmPath: string,
        onExit: OnExit,
        requestCapabilities: Capability[],
        grant: ProcessId[] | Array<[ProcessId, string]>,
        isPublic: boolean,
      ) => this.spawn(name, wasmPath, onExit, requestCapabilities, grant, isPublic),
      saveCapabilities: (caps: Capability[]) => this.link.post({ t: 'save-caps', caps }),
      dropCapabilities: (caps: Capability[]) => this.link.post({ t: 'drop-caps', caps }),
      ourCapabilities: () => this.link.call({ op: 'our-capabilities' }) as Capability[],
      receive: () => this.receive(),
      getBlob: () => (this.generation === 0 || this.blobPresent ? this.lastBlob : undefined),
      sendRequest: (target: Address, request: Request, context: Uint8Array | undefined, blob: LazyLoadBlob | undefined) => {
        this.sendOne(this.prepareRequest(target, request, context, blob));
      },
      sendRequests: (requests: Array<[Address, Request, Uint8Array | undefined, LazyLoadBlob | undefined]>) => {
        const items = requests.map(([t, r, c, b]) => this.prepareRequest(t, r, c, b));
        if (items.length) this.link.send(items, this.giveUp);
      },
      sendResponse: (response: Response, blob: LazyLoadBlob | undefined) => this.sendResponse(response, blob),
      sendAndAwaitResponse: (target: Address, request: Request, blob: LazyLoadBlob | undefined) =>
        this.sendAndAwait(target, request, blob),
    };
    if (this.generation === 1) {
      std.our = () => this.ourAddress;
      std.hasBlob = () => this.blobPresent;
      std.lastBlob = () => this.lastBlob;
    }
    return std;
  }

  private freshId(): bigint {
    for (;;) {
      const id = this.ids.take();
      if (this.contexts.get(id) === undefined) return id;
    }
  }

  /**
   * A blob the component passed to a send was lifted out of its memory into a fresh buffer that
   * nothing here keeps: it may be transferred to the kernel. The one blob this side keeps is the
   * last received one (get-blob, inherit), which stays.
   */
  private readonly giveUp = (b: Uint8Array): boolean => b !== this.lastBlob?.bytes;

  /** Blob a message inherits: v0 the current message's (maybe none), v1 the last non-empty one. */
  private inheritedBlob(): LazyLoadBlob | undefined {
    return this.lastBlob;
  }

  /** One message to the kernel, through a reused one-item list (the link encodes it at once and keeps nothing). */
  private readonly one: Array<Omit<KernelMessage, 'source'>> = [];
  private sendOne(km: Omit<KernelMessage, 'source'>): void {
    const one = this.one;
    one[0] = km;
    try {
      this.link.send(one, this.giveUp);
    } finally {
      one.length = 0;
    }
  }

  private prepareRequest(
    target: Address,
    request: Request,
    context: Uint8Array | undefined,
    blob: LazyLoadBlob | undefined,
  ): Omit<KernelMessage, 'source'> {
    const inheritFrom = request.inherit ? this.prompting : undefined;
    const id = inheritFrom ? inheritFrom.id : this.freshId();
    const lazyLoadBlob = blob ?? (request.inherit ? this.inheritedBlob() : undefined);
    let rsvp: Address | undefined;
    if (request.expectsResponse !== undefined) {
      rsvp = this.ourAddress;
      // a context given without expects-response is ignored, as in the runtime
      this.contexts.set(id, { context, prompting: this.prompting });
    } else if (inheritFrom) {
      rsvp = inheritFrom.rsvp;
    }
    return { id, target, rsvp, message: { tag: 'request', val: request }, lazyLoadBlob };
  }

  private sendResponse(response: Response, blob: LazyLoadBlob | undefined): void {
    const p = this.prompting;
    if (!p) {
      this.link.post({
        t: 'print',
        verbosity: 0,
        text: `kernel: need non-None prompting_message to handle Response ${JSON.stringify(describe(response))}`,
        raw: true,
      });
      return;
    }
    const lazyLoadBlob = response.inherit ? this.inheritedBlob() : blob;
    this.sendOne({ id: p.id, target: p.rsvp ?? p.source, rsvp: undefined, message: { tag: 'response', val: [response, undefined] }, lazyLoadBlob });
  }

  private takeBlob(blob: LazyLoadBlob | undefined): void {
    const old = this.lastBlob;
    this.setLastBlob(blob);
    // the blob replaced is held by nothing else here (deliveries are taken once, get-blob and
    // inherit copy it): its buffer may serve the next big lift (blob-pool.ts)
    if (old !== undefined && old !== this.lastBlob) this.blobs.release(old.bytes);
  }

  private setLastBlob(blob: LazyLoadBlob | undefined): void {
    if (this.generation === 0) {
      this.lastBlob = blob;
    } else if (blob) {
      this.lastBlob = blob;
      this.blobPresent = true;
    } else {
      this.blobPresent = false;
    }
  }

  /** get/set/clear-state and spawn are send-and-awaits in the runtime; v1 leaves has-blob as their replies set it. */
  private afterInternalAwait(replyHadBlob: boolean): void {
    if (this.generation === 1) this.blobPresent = replyHadBlob;
  }

  private getState(): Uint8Array | undefined {
    const bytes = this.link.call({ op: 'get-state' }) as Uint8Array | undefined;
    this.afterInternalAwait(bytes !== undefined);
    return bytes;
  }

  private spawn(
    name: string | undefined,
    wasmPath: string,
    onExit: OnExit,
    requestCapabilities: Capability[],
    grant: ProcessId[] | Array<[ProcessId, string]>,
    isPublic: boolean,
  ): Result<ProcessId, string> {
    const grants: Array<[ProcessId, string]> =
      this.generation === 0 ? (grant as ProcessId[]).map((p) => [p, '"messaging"']) : (grant as Array<[ProcessId, string]>);
    const r = this.link.call({ op: 'spawn', name, wasmPath, onExit, requestCapabilities, grant: grants, public: isPublic }) as Result<
      ProcessId,
      string
    >;
    this.afterInternalAwait(false);
    return r;
  }

  private receive(): Result<[Address, Message], [SendError, Uint8Array | undefined]> {
    for (;;) {
      const d = this.backlog.shift() ?? this.link.nextDelivery();
      if (d.kind === 'error') {
        const out = this.contexts.delete(d.id);
        if (!out) continue; // nobody waits for it any more
        this.prompting = out.prompting;
        if (this.generation === 1) this.blobPresent = false;
        return { tag: 'err', val: [d.error, out.context] };
      }
      const km = d.km;
      if (km.message.tag === 'response') {
        const out = this.contexts.delete(km.id);
        if (!out) continue; // responses without a context are dropped
        this.prompting = out.prompting;
        this.takeBlob(km.lazyLoadBlob);
        return { tag: 'ok', val: [km.source, { tag: 'response', val: [km.message.val[0], out.context] }] };
      }
      const blob = km.lazyLoadBlob;
      if (km.message.val.expectsResponse !== undefined || km.rsvp !== undefined) {
        // the delivery is ours alone once taken (nothing reads it again): it becomes the
        // prompting message itself, without its blob (which get-blob and inherit take from lastBlob)
        km.lazyLoadBlob = undefined;
        this.prompting = km;
      }
      this.takeBlob(blob);
      return { tag: 'ok', val: [km.source, km.message] };
    }
  }

  private sendAndAwait(target: Address, request: Request, blob: LazyLoadBlob | undefined): Result<[Address, Message], SendError> {
    if (request.expectsResponse === undefined) {
      throw new ProcessTrap('send_and_await_response: request must expect a response');
    }
    if (sameAddress(target, this.ourAddress)) {
      throw new ProcessTrap(`send_and_await_response: cannot await a response from ourselves (${addrStr(target)})`);
    }
    const km = this.prepareRequest(target, request, undefined, blob);
    const id = km.id;
    const t0 = this.link.beginAwait();
    this.sendOne(km);
    for (;;) {
      const d = this.link.nextDelivery(true);
      const dId = d.kind === 'error' ? d.id : d.km.id;
      if (dId !== id) {
        this.backlog.push(d);
        continue;
      }
      this.link.endAwait(t0);
      if (d.kind === 'error') {
        this.contexts.delete(id);
        if (this.generation === 1) this.blobPresent = false;
        return { tag: 'err', val: d.error };
      }
      if (d.km.message.tag === 'request') {
        throw new ProcessTrap('send_and_await_response: received Request instead of Response');
      }
      this.contexts.delete(id);
      this.takeBlob(d.km.lazyLoadBlob);
      return { tag: 'ok', val: [d.km.source, { tag: 'response', val: [d.km.message.val[0], undefined] }] };
    }
  }
}

function describe(r: Response): unknown {
  return { inherit: r.inherit, body: `${r.body.length} bytes`, metadata: r.metadata ?? null };
}
