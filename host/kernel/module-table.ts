// The system modules the kernel hosts, by name: each module answers to its v0 and its v1 name
// (equal for some), and each era addresses the modules by its own names only.

import type { Generation, ProcessId } from '../types.js';
import { parseProcessId } from './address.js';
import { pidText } from './pid-text.js';
import type { SystemModule } from './module.js';

export interface ModuleEntry {
  module: SystemModule;
  /** the v1 name: the module's one holder key for capabilities */
  key: string;
  capExempt: boolean;
  /** its two names, parsed once: they are needed on every message to or from it */
  pids: { v0: ProcessId; v1: ProcessId };
}

export class ModuleTable {
  private readonly byKey = new Map<string, ModuleEntry>();
  /** module name (either era) -> entry, with the era each name belongs to */
  private readonly byName = new Map<string, { entry: ModuleEntry; era: Generation | 'both' }>();

  register(module: SystemModule, capExempt: boolean): void {
    const key = module.names.v1;
    const pids = { v0: parseProcessId(module.names.v0), v1: parseProcessId(module.names.v1) };
    const entry: ModuleEntry = { module, key, capExempt, pids };
    this.byKey.set(key, entry);
    if (module.names.v0 === module.names.v1) {
      this.byName.set(module.names.v0, { entry, era: 'both' });
    } else {
      this.byName.set(module.names.v0, { entry, era: 0 });
      this.byName.set(module.names.v1, { entry, era: 1 });
    }
  }

  entries(): IterableIterator<ModuleEntry> {
    return this.byKey.values();
  }

  /** Whether a process id text names a module in either era. */
  has(pidText: string): boolean {
    return this.byName.has(pidText);
  }

  /** Canonical holder key for a process id text (module aliases fold to one key). */
  holderKey(pidText: string): string {
    return this.byName.get(pidText)?.entry.key ?? pidText;
  }

  /** The module `pid` names for a sender of generation `senderGen` (undefined: a module, any era). */
  forSender(pid: ProcessId, senderGen: Generation | undefined): ModuleEntry | undefined {
    const m = this.byName.get(pidText(pid));
    if (!m) return undefined;
    if (m.era !== 'both' && senderGen !== undefined && m.era !== senderGen) return undefined;
    return m.entry;
  }
}

/** The name a module presents to a receiver of the given generation. */
export function moduleSourceName(entry: ModuleEntry, gen: Generation | undefined): ProcessId {
  return gen === 0 ? entry.pids.v0 : entry.pids.v1;
}
