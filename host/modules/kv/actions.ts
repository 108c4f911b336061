// The action handler of kv: parse the request in the sender's era → check caps → open the db
// (every action opens it, creating it when absent, as the runtime does) → perform → one reply.
// Success is answered only when a response is expected (or there is an rsvp), with the
// request's metadata echoed and the value as an `application/octet-stream` blob; errors are
// answered always, with no metadata, and printed at verbosity 1 (`kv: <error>`).
// better-sqlite3 is synchronous, so each message is done before the next: per-sender order holds.

import type { Generation, KernelMessage, LazyLoadBlob, ProcessId } from '../../types.js';
import type { ModuleContext } from '../../kernel/module.js';
import { kvBeginTx, kvErrorBody, kvErrorText, kvGet, kvOk, parseKvRequest, type KvError, type KvRequest } from '../../wire/kv.js';
import type { DbCaps } from '../db/caps.js';
import type { OpenHandles } from '../db/handles.js';
import { dbDir, dbKeyString, DbPathError, removeDbDir } from '../db/paths.js';
import type { Transactions } from '../db/transactions.js';
import { KvStore, type KvOp } from './store.js';

type Outcome = { body: Uint8Array; value?: Uint8Array } | { error: KvError };

export interface KvParts {
  ctx: ModuleContext;
  /** `<home>/kv` */
  root: string;
  caps: DbCaps;
  handles: OpenHandles<KvStore>;
  txs: Transactions<KvOp>;
}

const ioText = (e: unknown): string => (e as Error)?.message ?? String(e);

export class KvActions {
  constructor(private readonly p: KvParts) {}

  handle(km: KernelMessage, gen: Generation): void {
    if (km.message.tag !== 'request') {
      // v0 answers a Response with an error; v1 ignores it
      if (gen === 0) this.fail(km, { kind: 'not-a-request' }, gen);
      return;
    }
    const req = km.message.val;
    let r: KvRequest;
    try {
      r = parseKvRequest(req.body, gen);
    } catch (e) {
      this.p.ctx.print(1, `kv: got invalid request: ${ioText(e)}`);
      this.fail(km, { kind: 'malformed' }, gen);
      return;
    }
    const out = this.perform(km.source.process, gen, r, km.lazyLoadBlob);
    if ('error' in out) {
      this.fail(km, out.error, gen);
      return;
    }
    if (req.expectsResponse === undefined && km.rsvp === undefined) return;
    const blob: LazyLoadBlob | undefined = out.value ? { mime: 'application/octet-stream', bytes: out.value } : undefined;
    this.p.ctx.respond(km, { inherit: false, body: out.body, metadata: req.metadata, capabilities: [] }, blob);
  }

  private fail(km: KernelMessage, e: KvError, gen: Generation): void {
    this.p.ctx.print(1, `kv: ${kvErrorText(e, gen)}`);
    this.p.ctx.respond(km, { inherit: false, body: kvErrorBody(e, gen), metadata: undefined, capabilities: [] });
  }

  private perform(source: ProcessId, gen: Generation, { key, action }: KvRequest, blob: LazyLoadBlob | undefined): Outcome {
    const { caps, handles, txs } = this.p;
    const k = dbKeyString(key);
    const ownPackage = source.packageName === key.pkg.packageName && source.publisherNode === key.pkg.publisherNode;
    switch (action.tag) {
      case 'Set':
      case 'Delete':
      case 'BeginTx':
      case 'Commit':
        if (!caps.has(source, gen, 'write', key)) return { error: { kind: 'no-cap', cap: 'write', action } };
        break;
      case 'Get':
        if (!caps.has(source, gen, 'read', key)) return { error: { kind: 'no-cap', cap: 'read', action } };
        break;
      case 'Open':
        if (!ownPackage) return { error: { kind: 'mismatching-package', action } };
        caps.grantOwner(source, gen, key);
        break;
      case 'RemoveDb': {
        if (!ownPackage) return { error: { kind: 'mismatching-package', action } };
        const failed = removeDbDir(this.p.root, key, () => handles.close(k));
        if (failed !== undefined) return { error: { kind: 'io', text: failed } };
        break;
      }
      case 'Backup':
        break;
    }

    // every action opens the db (so RemoveDb leaves an empty one behind, as in the runtime)
    let store: KvStore;
    try {
      store = handles.get(k, () => new KvStore(dbDir(this.p.root, key)));
    } catch (e) {
      if (e instanceof DbPathError) return { error: { kind: 'io', text: e.message } };
      return { error: { kind: 'store', action: undefined, text: ioText(e) } };
    }

    try {
      switch (action.tag) {
        case 'Open':
        case 'RemoveDb':
          return { body: kvOk() };
        case 'Get': {
          const value = store.get(action.key);
          if (value === undefined) return { error: { kind: 'key-not-found' } };
          return { body: kvGet(action.key, gen), value };
        }
        case 'BeginTx':
          return { body: kvBeginTx(txs.begin()) };
        case 'Set': {
          if (!blob) return { error: { kind: 'no-blob' } };
          if (action.txId === undefined) store.set(action.key, blob.bytes);
          else {
            const q = txs.get(action.txId);
            if (!q) return { error: { kind: 'no-tx', txId: action.txId } };
            q.push({ op: 'set', key: action.key, value: blob.bytes });
          }
          return { body: kvOk() };
        }
        case 'Delete': {
          if (action.txId === undefined) store.delete(action.key);
          else {
            const q = txs.get(action.txId);
            if (!q) return { error: { kind: 'no-tx', txId: action.txId } };
            q.push({ op: 'delete', key: action.key });
          }
          return { body: kvOk() };
        }
        case 'Commit': {
          const ops = txs.take(action.txId);
          if (!ops) return { error: { kind: 'no-tx', txId: action.txId } };
          store.apply(ops);
          return { body: kvOk() };
        }
        case 'Backup':
          for (const s of handles.values()) s.checkpoint();
          return { body: kvOk() };
      }
    } catch (e) {
      return { error: { kind: 'store', action, text: ioText(e) } };
    }
  }
}
