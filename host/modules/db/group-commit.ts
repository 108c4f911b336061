// Group commit for kv (docs/performance.md §22): the Sets, Deletes and Gets that arrive in one run
// share one SQLite transaction per db, committed in a microtask once the run is over. The kernel
// hands a module every request a process sent in one go synchronously (the run db/read-batch.ts
// uses for reads), so a run of 64 Sets costs one WAL commit instead of 64 — what RocksDB's group
// commit does for concurrent writers in the runtime.
//
// No answer to a write leaves before its commit: a write's answer (and the answer of a read that
// ran after a write in the same transaction, and so may have seen it) is held and sent only once
// the commit has succeeded. Answers leave in arrival order: while anything is held, every other
// answer of the module queues behind it (modules may answer at any time: kernel/module.ts).
//
// A failure never changes an answer: when a statement throws inside the group, or the commit
// fails, the transaction is rolled back and every op of the group is run again on its own
// (autocommit), in order, so each gets exactly the answer it would have got without the group;
// that db takes no group again until the run is over. Reads before the run's first write saw only
// committed data: they are answered at once (the read batching of §18) and not run again.

export interface GroupMember {
  /** a transaction is open on the member's connection (SQLite may end one itself on some errors) */
  readonly inTransaction: boolean;
  begin(): void;
  commit(): void;
  rollback(): void;
  /** set by the group while the member takes part in a run: called before the member closes */
  beforeClose?: (() => void) | undefined;
  /** the group's state of the run on this member (kept by the group; undefined outside a run) */
  groupRun?: unknown;
}

/**
 * One op as the group runs it (one object per request: the hot path allocates nothing else).
 * `exec` runs its statement(s) and gives its outcome, or throws; `failed` is the outcome of a
 * thrown `exec` (the error the op gets alone); `reply` sends the answer.
 */
export interface GroupOp<O> {
  exec(): O;
  failed(e: unknown): O;
  reply(o: O): void;
  /** set by the group: the outcome to send */
  outcome: O | undefined;
}

interface RunState<O> {
  /** the run's transaction has a write: later ops' answers wait for its commit */
  dirty: boolean;
  /** the group failed here: the rest of the run's ops on this member run alone */
  alone: boolean;
  /** ops run in the transaction since its first write, in order (what a failure runs again) */
  ops: Array<GroupOp<O>>;
}

export class GroupCommit<O> {
  /**
   * The members in the current run (slots 0..running-1), each holding its RunState in `groupRun`.
   * Not a Map cleared per run: V8's Map.clear leaves the dropped table holding its entries, and
   * once a table is in the old generation each scavenge treats its slots as roots, so every
   * run's ops (and the requests they hold) were promoted (kernel/pending-table.ts; measured:
   * 3–5 MB promoted per scavenge in a kv Set flood). Slots are cleared explicitly instead.
   */
  private readonly members: Array<GroupMember | undefined> = [];
  private running = 0;
  /** answers waiting, in arrival order: an op (its outcome sent with its reply) or a plain send */
  private queue: Array<GroupOp<O> | (() => void)> = [];
  private scheduled = false;
  private draining = false;

  /** `onError`: a send that threw (printed by the module; the node keeps running) */
  constructor(private readonly onError: (e: unknown) => void) {}

  /**
   * Run `op` on `member`, a write (`write`) or a read, in the run's transaction on that member.
   * Its answer is sent at once when nothing is held and it saw only committed data, else after
   * the commit.
   */
  run(member: GroupMember, write: boolean, op: GroupOp<O>): void {
    let st = member.groupRun as RunState<O> | undefined;
    if (st === undefined) {
      st = { dirty: false, alone: false, ops: [] };
      member.groupRun = st;
      this.members[this.running++] = member;
      member.beforeClose = this.settle;
      this.schedule();
    }
    if (st.alone) {
      op.outcome = alone(op);
      this.send(op);
      return;
    }
    try {
      if (!member.inTransaction) member.begin();
      op.outcome = op.exec();
    } catch {
      // a statement failed inside the group: undo the group, run its ops again one by one
      this.fallBack(member, st);
      op.outcome = alone(op);
      this.send(op);
      return;
    }
    if (write) st.dirty = true;
    if (!st.dirty) {
      this.send(op);
      return;
    }
    st.ops.push(op);
    this.queue.push(op); // held until the commit
  }

  /** An op whose outcome is final: answered now, or behind the answers already held. */
  private send(op: GroupOp<O>): void {
    if (this.queue.length === 0 && !this.draining) op.reply(op.outcome as O);
    else this.queue.push(op);
  }

  /** Send `send` now, or behind the answers already held (arrival order). */
  answer(send: () => void): void {
    if (this.queue.length === 0 && !this.draining) send();
    else this.queue.push(send);
  }

  /** Commit every open group and send every held answer, now (before an action that must not run inside a group). */
  readonly settle = (): void => {
    if (this.running > 0) {
      const n = this.running;
      this.running = 0;
      for (let i = 0; i < n; i++) {
        const member = this.members[i]!;
        this.members[i] = undefined;
        const st = member.groupRun as RunState<O>;
        member.groupRun = undefined;
        member.beforeClose = undefined;
        if (!member.inTransaction) {
          // SQLite ended the transaction itself (an error that rolls back): nothing of it stands
          if (st.ops.length > 0) this.again(st);
          continue;
        }
        try {
          member.commit();
        } catch {
          this.fallBack(member, st);
        }
      }
    }
    if (this.draining) return; // re-entered from a send below: that loop sends the rest in order
    this.draining = true;
    try {
      // a send may (through the kernel) bring a new request here: its answer queues behind these,
      // and a held one waits for its own run's commit
      while (this.queue.length > 0 && this.running === 0) {
        const q = this.queue;
        this.queue = [];
        for (const a of q) {
          // in a microtask no kernel catches a throw: one failed send must not lose the others
          try {
            if (typeof a === 'function') a();
            else a.reply(a.outcome as O);
          } catch (e) {
            this.onError(e);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  };

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.settle();
    });
  }

  /** Roll the member's group back and run its ops again alone, in order; the run goes on without a group there. */
  private fallBack(member: GroupMember, st: RunState<O>): void {
    if (member.inTransaction) {
      try {
        member.rollback();
      } catch {
        /* SQLite already ended it */
      }
    }
    this.again(st);
    st.alone = true;
  }

  private again(st: RunState<O>): void {
    for (const op of st.ops) op.outcome = alone(op);
    st.ops = [];
  }
}

function alone<O>(op: GroupOp<O>): O {
  try {
    return op.exec();
  } catch (e) {
    return op.failed(e);
  }
}
