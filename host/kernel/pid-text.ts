// The text form of a process id on the kernel's message path, remembered: every message names its
// target (and a module's its source) as a ProcessId decoded afresh, and building its
// `name:package:publisher` text for the process-table lookup made a new string per message (and
// hashed it again). Keyed by the process name; the other two parts are compared (the decoder hands
// out the same string objects for repeated names, message-codec.ts, so the compare is cheap).

import { pidStr } from './address.js';
import type { ProcessId } from '../types.js';

interface Known {
  packageName: string;
  publisherNode: string;
  text: string;
}

/** bounded: names come from processes; past this the memo starts over */
const LIMIT = 4096;
const known = new Map<string, Known>();

export function pidText(p: ProcessId): string {
  const k = known.get(p.processName);
  if (k !== undefined && k.packageName === p.packageName && k.publisherNode === p.publisherNode) return k.text;
  const text = pidStr(p);
  if (known.size >= LIMIT) known.clear();
  known.set(p.processName, { packageName: p.packageName, publisherNode: p.publisherNode, text });
  return text;
}
