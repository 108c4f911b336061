// `state:distro:sys` (the same name in both eras): process state as a module, for processes that
// message it directly (the runtime's `state.rs`; processes usually reach it through the
// get/set/clear-state imports, which share its storage: one StateStore per node).
// Not public: a process needs its messaging capability (manifest `request_capabilities`), and
// then, as in the runtime, the process id in the body is trusted: it may read or write any
// process's state. Its replies skip the kernel's capability check (the runtime exempts `state`).
// Requests from one sender are handled one at a time, in order.

import type { Generation, KernelMessage } from '../../types.js';
import { pidStr } from '../../kernel/address.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import type { StateStore } from '../../kernel/state-store.js';
import { STATE_NAMES } from '../../wire/names.js';
import { parseStateAction, stateErrBody, stateOk, type StateAction, type StateError } from '../../wire/state.js';
import { WireError } from '../../wire/serde-json.js';

export { STATE_NAMES };

class Refused {
  constructor(readonly error: StateError) {}
}

export function createStateModule(store: StateStore): SystemModule {
  let ctx!: ModuleContext;
  /** sender process id -> tail of its queue (removed when it drains) */
  const queues = new Map<string, Promise<void>>();

  const reply = (km: KernelMessage, body: Uint8Array, metadata: string | undefined, bytes?: Uint8Array): void =>
    ctx.respond(
      km,
      { inherit: false, body, metadata, capabilities: [] },
      bytes ? { mime: 'application/octet-stream', bytes } : undefined,
    );

  async function perform(action: StateAction, km: KernelMessage): Promise<Uint8Array | undefined> {
    const io = async <T>(p: Promise<T>): Promise<T> => {
      try {
        return await p;
      } catch (e) {
        throw new Refused({ kind: 'IOError', error: (e as Error).message });
      }
    };
    switch (action.tag) {
      case 'SetState':
        if (!km.lazyLoadBlob) throw new Refused({ kind: 'BadBytes', action: 'SetState' });
        await io(store.set(action.pid, km.lazyLoadBlob.bytes));
        return undefined;
      case 'GetState': {
        const bytes = await io(store.get(action.pid));
        if (!bytes) throw new Refused({ kind: 'NotFound', processId: action.pid });
        return bytes;
      }
      case 'DeleteState':
        await io(store.clear(action.pid));
        return undefined;
      case 'Backup':
        await io(store.backup());
        return undefined;
    }
  }

  async function handleOne(km: KernelMessage): Promise<void> {
    try {
      if (km.message.tag !== 'request') throw new Refused({ kind: 'BadRequest', error: 'not a request' });
      const req = km.message.val;
      let action: StateAction;
      try {
        action = parseStateAction(req.body);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        throw new Refused({ kind: 'BadJson', error: `parse into StateAction failed: Error(${JSON.stringify(e.message)})` });
      }
      const bytes = await perform(action, km);
      // success is answered only to someone waiting, with the request's metadata echoed
      if (km.rsvp || req.expectsResponse !== undefined) reply(km, stateOk(action.tag), req.metadata, bytes);
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      reply(km, stateErrBody(e.error), undefined); // errors always go back (both eras)
    }
  }

  return {
    names: STATE_NAMES,
    public: false,

    start(c: ModuleContext): void {
      ctx = c;
    },

    handle(km: KernelMessage, _gen: Generation): void {
      if (km.source.node !== ctx.node) {
        ctx.print(1, `state: got request from ${km.source.node}, but requests must come from our node ${ctx.node}`);
        return;
      }
      const sender = pidStr(km.source.process);
      const run = (queues.get(sender) ?? Promise.resolve()).then(() => handleOne(km));
      const tail = run.catch((e: Error) => ctx.print(0, `state: error handling message from ${sender}: ${e.message}`));
      queues.set(sender, tail);
      void tail.then(() => {
        if (queues.get(sender) === tail) queues.delete(sender);
      });
    },

    async stop(): Promise<void> {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
  };
}
