// `sqlite:distro:sys` (the same name in both eras): SQLite dbs per package through
// better-sqlite3, at `<home>/sqlite/<package>:<publisher>/<db>/<db>.db` in both eras (runtime
// 0.9's quirk of opening `<db>.db` in its working directory is not copied). Not public:
// processes need its messaging capability, and its replies reach only processes that are
// public or granted it theirs (the kernel checks both, as in the runtime).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Generation, KernelMessage } from '../../types.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import { parseProcessId } from '../../kernel/address.js';
import { SQLITE_NAMES } from '../../wire/names.js';
import { DbCaps } from '../db/caps.js';
import { OpenHandles } from '../db/handles.js';
import { Transactions } from '../db/transactions.js';
import { SqliteActions, type QueuedWrite } from './actions.js';
import type { SqliteDb } from './database.js';

export { SQLITE_NAMES };

export interface SqliteModuleOptions {
  home: string;
  /** dbs kept open at once; the least recently used is closed past this (default 64) */
  maxOpen?: number;
}

export function createSqliteModule(opts: SqliteModuleOptions): SystemModule {
  const handles = new OpenHandles<SqliteDb>(opts.maxOpen ?? 64);
  let actions: SqliteActions | undefined;
  return {
    names: SQLITE_NAMES,
    public: false,

    start(ctx: ModuleContext): void {
      const root = join(opts.home, 'sqlite');
      mkdirSync(root, { recursive: true });
      const caps = new DbCaps(ctx, parseProcessId(SQLITE_NAMES.v1));
      actions = new SqliteActions({ ctx, root, caps, handles, txs: new Transactions<QueuedWrite>() });
    },

    handle(km: KernelMessage, senderGeneration: Generation): void {
      actions?.handle(km, senderGeneration);
    },

    stop(): void {
      actions = undefined;
      handles.closeAll();
    },
  };
}
