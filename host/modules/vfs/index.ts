// `vfs:distro:sys` (same name in both eras): the Kinode virtual filesystem. Files live under
// `<home>/vfs/<package>:<publisher>/<drive>/...` — the same tree install writes package drives
// into — and survive restarts; handles and cursors are memory-only. Not public: processes need
// its messaging capability (manifest `request_capabilities: ["vfs:distro:sys"]`); its replies
// reach processes without any capability (the kernel exempts vfs as a source, as the runtime
// does). Behaviour, choices and what is not reproduced: docs/vfs.md.

import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Generation, KernelMessage } from '../../types.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import { VFS_NAMES } from '../../wire/names.js';
import { VfsHandler } from './actions.js';

export { VFS_NAMES };

export interface VfsModuleOptions {
  home: string;
}

export function createVfsModule(opts: VfsModuleOptions): SystemModule {
  let handler: VfsHandler | undefined;
  return {
    names: VFS_NAMES,
    public: false,
    start(ctx: ModuleContext): void {
      const dir = join(opts.home, 'vfs');
      mkdirSync(dir, { recursive: true });
      // like the runtime, work on the canonical root so ReadDir paths strip cleanly
      handler = new VfsHandler(ctx, realpathSync(dir));
    },
    handle(km: KernelMessage, senderGeneration: Generation): void {
      handler?.handle(km, senderGeneration);
    },
    stop(): void {
      handler?.stop();
    },
  };
}
