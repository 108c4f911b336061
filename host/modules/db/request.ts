// What kv and sqlite do alike for every request, around their own actions: the reply envelope
// (parse in the sender's era → perform → an error answered always and printed at verbosity 1, a
// success answered only when a response is expected or there is an rsvp, with the request's
// metadata echoed and any result bytes as an `application/octet-stream` blob), and the admission
// of an action to a db (caps, own-package rules for Open/RemoveDb, opening the db).

import type { Generation, KernelMessage, LazyLoadBlob, ProcessId } from '../../types.js';
import type { ModuleContext } from '../../kernel/module.js';
import type { DbKey } from '../../wire/db-request.js';
import type { DbCaps } from './caps.js';
import type { Closable, OpenHandles } from './handles.js';
import { dbDir, dbKeyString, DbPathError, removeDbDir } from './paths.js';

export type DbOutcome<E> = { body: Uint8Array; blob?: Uint8Array } | { error: E };

export interface DbReplies<R, E> {
  ctx: ModuleContext;
  /** the module's name in the invalid-request print */
  name: string;
  parse(body: Uint8Array, gen: Generation): R;
  /**
   * Perform `r`: its outcome, or undefined when the outcome goes to `reply` later (kv's group
   * commit holds a write's answer until its commit: db/group-commit.ts).
   */
  perform(source: ProcessId, gen: Generation, r: R, blob: LazyLoadBlob | undefined, reply: (o: DbOutcome<E>) => void): DbOutcome<E> | undefined;
  /** every answer goes through this when given (kv: held answers keep their order) */
  answer?: (send: () => void) => void;
  /** the printed line and the reply body of an error */
  errorLine(e: E, gen: Generation): string;
  errorBody(e: E, gen: Generation): Uint8Array;
  malformed: E;
  notARequest: E;
}

const text = (e: unknown): string => (e as Error)?.message ?? String(e);

export function answerDbRequest<R, E>(m: DbReplies<R, E>, km: KernelMessage, gen: Generation): void {
  const req = km.message.tag === 'request' ? km.message.val : undefined;
  /** the answer, sent now (the module's own order: `m.answer`, or a later reply from perform) */
  const send = (out: DbOutcome<E>): void => {
    if ('error' in out) {
      m.ctx.print(1, m.errorLine(out.error, gen));
      m.ctx.respond(km, { inherit: false, body: m.errorBody(out.error, gen), metadata: undefined, capabilities: [] });
      return;
    }
    if (req === undefined || (req.expectsResponse === undefined && km.rsvp === undefined)) return;
    const blob: LazyLoadBlob | undefined = out.blob ? { mime: 'application/octet-stream', bytes: out.blob } : undefined;
    m.ctx.respond(km, { inherit: false, body: out.body, metadata: req.metadata, capabilities: [] }, blob);
  };
  const answer = (out: DbOutcome<E>): void => {
    if (m.answer) m.answer(() => send(out));
    else send(out);
  };
  if (req === undefined) {
    // v0 answers a Response with an error; v1 ignores it
    if (gen === 0) answer({ error: m.notARequest });
    return;
  }
  let r: R;
  try {
    r = m.parse(req.body, gen);
  } catch (e) {
    m.ctx.print(1, `${m.name}: got invalid request: ${text(e)}`);
    answer({ error: m.malformed });
    return;
  }
  const out = m.perform(km.source.process, gen, r, km.lazyLoadBlob, send);
  if (out !== undefined) answer(out);
}

/** What an action needs before it runs: a read or write cap, the owner's package, or nothing. */
export type DbNeed = 'read' | 'write' | 'open' | 'remove' | 'none';

export type AdmitError<A> =
  | { kind: 'no-cap'; cap: 'read' | 'write'; action: A }
  | { kind: 'mismatching-package'; action: A }
  | { kind: 'io'; text: string };

export interface DbPlace<T extends Closable> {
  root: string;
  caps: DbCaps;
  handles: OpenHandles<T>;
}

/**
 * Check `need` for `source` on the db `key`, then open the db (every action opens it, creating it
 * when absent, as the runtime does: so RemoveDb leaves an empty one behind). Returns the open db,
 * or the error to answer; an error from `open` other than a bad path is returned as `failed`.
 */
export function admitDbAction<T extends Closable, A>(
  p: DbPlace<T>,
  source: ProcessId,
  gen: Generation,
  key: DbKey,
  need: DbNeed,
  action: A,
  open: (dir: string) => T,
): { db: T } | { error: AdmitError<A> } | { failed: unknown } {
  const k = dbKeyString(key);
  const ownPackage = source.packageName === key.pkg.packageName && source.publisherNode === key.pkg.publisherNode;
  switch (need) {
    case 'read':
    case 'write':
      if (!p.caps.has(source, gen, need, key)) return { error: { kind: 'no-cap', cap: need, action } };
      break;
    case 'open':
      if (!ownPackage) return { error: { kind: 'mismatching-package', action } };
      p.caps.grantOwner(source, gen, key);
      break;
    case 'remove': {
      if (!ownPackage) return { error: { kind: 'mismatching-package', action } };
      const failed = removeDbDir(p.root, key, () => p.handles.close(k));
      if (failed !== undefined) return { error: { kind: 'io', text: failed } };
      break;
    }
    case 'none':
      break;
  }
  try {
    return { db: p.handles.get(k, () => open(dbDir(p.root, key))) };
  } catch (e) {
    if (e instanceof DbPathError) return { error: { kind: 'io', text: e.message } };
    return { failed: e };
  }
}
