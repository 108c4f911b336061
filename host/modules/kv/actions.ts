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
import { admitDbAction, answerDbRequest, type DbNeed, type DbOutcome, type DbReplies } from '../db/request.js';
import type { Transactions } from '../db/transactions.js';
import { KvStore, type KvOp } from './store.js';

export interface KvParts {
  ctx: ModuleContext;
  /** `<home>/kv` */
  root: string;
  caps: DbCaps;
  handles: OpenHandles<KvStore>;
  txs: Transactions<KvOp>;
}

const ioText = (e: unknown): string => (e as Error)?.message ?? String(e);

const NEED: Record<KvRequest['action']['tag'], DbNeed> = {
  Set: 'write',
  Delete: 'write',
  BeginTx: 'write',
  Commit: 'write',
  Get: 'read',
  Open: 'open',
  RemoveDb: 'remove',
  Backup: 'none',
};

export class KvActions {
  private readonly replies: DbReplies<KvRequest, KvError>;

  constructor(private readonly p: KvParts) {
    this.replies = {
      ctx: p.ctx,
      name: 'kv',
      parse: parseKvRequest,
      perform: (source, gen, r, blob) => this.perform(source, gen, r, blob),
      errorLine: (e, gen) => `kv: ${kvErrorText(e, gen)}`,
      errorBody: kvErrorBody,
      malformed: { kind: 'malformed' },
      notARequest: { kind: 'not-a-request' },
    };
  }

  handle(km: KernelMessage, gen: Generation): void {
    answerDbRequest(this.replies, km, gen);
  }

  private perform(source: ProcessId, gen: Generation, { key, action }: KvRequest, blob: LazyLoadBlob | undefined): DbOutcome<KvError> {
    const { handles, txs } = this.p;
    const admitted = admitDbAction(this.p, source, gen, key, NEED[action.tag], action, (dir) => new KvStore(dir));
    if ('error' in admitted) return admitted;
    if ('failed' in admitted) return { error: { kind: 'store', action: undefined, text: ioText(admitted.failed) } };
    const store = admitted.db;

    try {
      switch (action.tag) {
        case 'Open':
        case 'RemoveDb':
          return { body: kvOk() };
        case 'Get': {
          const value = store.getBatched(action.key);
          if (value === undefined) return { error: { kind: 'key-not-found' } };
          return { body: kvGet(action.key, gen), blob: value };
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
