// The capabilities kv and sqlite issue on their dbs, asked of and added to the kernel through
// the module context's oracle. Their params have the sender's era's shape (host/wire/db-request.ts).

import type { Address, Capability, Generation, ProcessId } from '../../types.js';
import type { ModuleContext } from '../../kernel/module.js';
import { capParams, type CapKind, type DbKey } from '../../wire/db-request.js';

export class DbCaps {
  constructor(
    private readonly ctx: ModuleContext,
    private readonly issuer: ProcessId,
  ) {
    this.address = { node: ctx.node, process: issuer };
  }

  /** the caps of keys the fast path remembers (the same key object every request: wire/db-fast.ts), [gen * 2 + write] */
  private readonly memo = new WeakMap<DbKey, Capability[]>();
  private readonly address: Address;

  private cap(gen: Generation, kind: CapKind, key: DbKey): Capability {
    if (key.text === undefined) return { issuer: this.address, params: capParams(gen, kind, key) };
    let caps = this.memo.get(key);
    if (!caps) this.memo.set(key, (caps = []));
    const i = gen * 2 + (kind === 'write' ? 1 : 0);
    return (caps[i] ??= { issuer: this.address, params: capParams(gen, kind, key) });
  }

  has(holder: ProcessId, gen: Generation, kind: CapKind, key: DbKey): boolean {
    return this.ctx.hasCapability(holder, this.cap(gen, kind, key));
  }

  /** Open: the opener gets read and write on the db (every time it opens). */
  grantOwner(holder: ProcessId, gen: Generation, key: DbKey): void {
    this.ctx.grantCapabilities(holder, [this.cap(gen, 'read', key), this.cap(gen, 'write', key)]);
  }
}
