// Which process ids name a Kinode system process (runtime module or system package) in each
// era, so a message to one this node does not provide can be named in a print (issue 8.5)
// instead of vanishing like a message to a mistyped user process.

import type { Generation } from '../types.js';
import type { ModuleNames } from './module.js';
import * as names from '../wire/names.js';

const byEra: Record<Generation, Set<string>> = { 0: new Set(), 1: new Set() };
for (const [key, n] of Object.entries(names) as Array<[string, ModuleNames | unknown]>) {
  if (key === 'DRIVER_NAMES') continue; // kinode-host's own test driver, not a Kinode name
  if (typeof n !== 'object' || n === null || !('v0' in n) || !('v1' in n)) continue;
  byEra[0].add((n as ModuleNames).v0);
  byEra[1].add((n as ModuleNames).v1);
}

/** Is `pid` a system process id of the sender's era (either era when the sender is a module)? */
export function isSystemProcessName(pid: string, era: Generation | undefined): boolean {
  return era === undefined ? byEra[0].has(pid) || byEra[1].has(pid) : byEra[era].has(pid);
}

/** The system process ids already named in a print: each is named once per node. */
export class MissingSystemNames {
  private readonly named = new Set<string>();

  /** True the first time a message goes to `pid`, a system process id of the era that this node does not provide. */
  firstMiss(pid: string, era: Generation | undefined): boolean {
    if (!isSystemProcessName(pid, era) || this.named.has(pid)) return false;
    this.named.add(pid);
    return true;
  }
}
