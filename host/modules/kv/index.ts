// `kv:distro:sys` (the same name in both eras): key-value dbs per package, stored as SQLite
// files under `<home>/kv/<package>:<publisher>/<db>/` (why SQLite: store.ts). Not public:
// processes need its messaging capability, and its replies reach only processes that are
// public or granted it theirs (the kernel checks both, as in the runtime).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Generation, KernelMessage } from '../../types.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import { parseProcessId } from '../../kernel/address.js';
import { KV_NAMES } from '../../wire/names.js';
import { DbCaps } from '../db/caps.js';
import { OpenHandles } from '../db/handles.js';
import { Transactions } from '../db/transactions.js';
import { KvActions } from './actions.js';
import type { KvOp, KvStore } from './store.js';

export { KV_NAMES };

export interface KvModuleOptions {
  home: string;
  /** dbs kept open at once; the least recently used is closed past this (default 64) */
  maxOpen?: number;
}

export function createKvModule(opts: KvModuleOptions): SystemModule {
  const handles = new OpenHandles<KvStore>(opts.maxOpen ?? 64);
  let actions: KvActions | undefined;
  return {
    names: KV_NAMES,
    public: false,

    start(ctx: ModuleContext): void {
      const root = join(opts.home, 'kv');
      mkdirSync(root, { recursive: true });
      const caps = new DbCaps(ctx, parseProcessId(KV_NAMES.v1));
      actions = new KvActions({ ctx, root, caps, handles, txs: new Transactions<KvOp>() });
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
