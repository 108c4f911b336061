// The action handler of kv: parse the request in the sender's era → check caps → open the db
// (every action opens it, creating it when absent, as the runtime does) → perform → one reply.
// Success is answered only when a response is expected (or there is an rsvp), with the
// request's metadata echoed and the value as an `application/octet-stream` blob; errors are
// answered always, with no metadata, and printed at verbosity 1 (`kv: <error>`).
// better-sqlite3 is synchronous, so each message is done before the next: per-sender order holds.
// Gets, Sets and Deletes outside a kv transaction that arrive in one run share one SQLite
// transaction per db (group commit: db/group-commit.ts); a write's answer leaves after the commit.

import type { Generation, KernelMessage, LazyLoadBlob, ProcessId } from '../../types.js';
import type { ModuleContext } from '../../kernel/module.js';
import { kvBeginTx, kvErrorBody, kvErrorText, kvGet, kvOk, parseKvRequest, type KvError, type KvRequest } from '../../wire/kv.js';
import type { DbCaps } from '../db/caps.js';
import type { OpenHandles } from '../db/handles.js';
import { GroupCommit, type GroupOp } from '../db/group-commit.js';
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

type Outcome = DbOutcome<KvError>;
const ok = (): Outcome => ({ body: kvOk() });

/** A Get, Set or Delete outside a kv transaction, as the group commit runs it (db/group-commit.ts). */
class KvOpRun implements GroupOp<Outcome> {
  outcome: Outcome | undefined = undefined;
  constructor(
    private readonly store: KvStore,
    private readonly action: KvRequest['action'],
    private readonly gen: Generation,
    /** the Set's value */
    private readonly value: Uint8Array | undefined,
    readonly reply: (o: Outcome) => void,
  ) {}

  exec(): Outcome {
    const a = this.action;
    switch (a.tag) {
      case 'Get': {
        const value = this.store.get(a.key);
        return value === undefined ? { error: { kind: 'key-not-found' } } : { body: kvGet(a.key, this.gen), blob: value };
      }
      case 'Set':
        this.store.set(a.key, this.value!);
        return ok();
      case 'Delete':
        this.store.delete(a.key);
        return ok();
      default:
        throw new Error(`kv: ${a.tag} is not a group op`);
    }
  }

  failed(e: unknown): Outcome {
    return { error: { kind: 'store', action: this.action, text: ioText(e) } };
  }
}

export class KvActions {
  private readonly replies: DbReplies<KvRequest, KvError>;
  /** the run's group commit; every answer of the module leaves through it, in arrival order */
  readonly group: GroupCommit<Outcome>;

  constructor(private readonly p: KvParts) {
    this.group = new GroupCommit<Outcome>((e) => p.ctx.print(0, `kv: internal error sending an answer: ${(e as Error)?.stack ?? String(e)}`));
    this.replies = {
      ctx: p.ctx,
      name: 'kv',
      parse: parseKvRequest,
      perform: (source, gen, r, blob, reply) => this.perform(source, gen, r, blob, reply),
      answer: (send) => this.group.answer(send),
      errorLine: (e, gen) => `kv: ${kvErrorText(e, gen)}`,
      errorBody: kvErrorBody,
      malformed: { kind: 'malformed' },
      notARequest: { kind: 'not-a-request' },
    };
  }

  handle(km: KernelMessage, gen: Generation): void {
    answerDbRequest(this.replies, km, gen);
  }

  private perform(source: ProcessId, gen: Generation, { key, action }: KvRequest, blob: LazyLoadBlob | undefined, reply: (o: Outcome) => void): Outcome | undefined {
    const { handles, txs } = this.p;
    const admitted = admitDbAction(this.p, source, gen, key, NEED[action.tag], action, (dir) => new KvStore(dir));
    if ('error' in admitted) return admitted;
    if ('failed' in admitted) return { error: { kind: 'store', action: undefined, text: ioText(admitted.failed) } };
    const store = admitted.db;

    switch (action.tag) {
      case 'Get':
        this.group.run(store, false, new KvOpRun(store, action, gen, undefined, reply));
        return undefined;
      case 'Set':
        if (!blob) return { error: { kind: 'no-blob' } };
        if (action.txId !== undefined) return this.queue(action.txId, { op: 'set', key: action.key, value: blob.bytes });
        this.group.run(store, true, new KvOpRun(store, action, gen, blob.bytes, reply));
        return undefined;
      case 'Delete':
        if (action.txId !== undefined) return this.queue(action.txId, { op: 'delete', key: action.key });
        this.group.run(store, true, new KvOpRun(store, action, gen, undefined, reply));
        return undefined;
      case 'Open':
      case 'RemoveDb':
        return ok();
      case 'BeginTx':
        return { body: kvBeginTx(txs.begin()) };
      case 'Commit': {
        const ops = txs.take(action.txId);
        if (!ops) return { error: { kind: 'no-tx', txId: action.txId } };
        this.group.settle(); // its own transaction, after the run's group is committed
        try {
          store.apply(ops);
        } catch (e) {
          return { error: { kind: 'store', action, text: ioText(e) } };
        }
        return ok();
      }
      case 'Backup':
        this.group.settle(); // a checkpoint ends the group
        try {
          for (const s of handles.values()) s.checkpoint();
        } catch (e) {
          return { error: { kind: 'store', action, text: ioText(e) } };
        }
        return ok();
    }
  }

  private queue(txId: bigint, op: KvOp): Outcome {
    const q = this.p.txs.get(txId);
    if (!q) return { error: { kind: 'no-tx', txId } };
    q.push(op);
    return ok();
  }
}
