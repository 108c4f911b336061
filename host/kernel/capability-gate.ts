// The capability checks on the kernel's message path: may a sender message a target, which
// attached capabilities survive, what save-capabilities may store. The store itself is
// capabilities.ts; this adds the received-caps evidence (issue 11.1) and a memo of messaging
// answers, so kernel.ts keeps routing and lifecycle.

import type { Capability, Message, ProcessId } from '../types.js';
import { addrStr, MESSAGING } from './address.js';
import type { CapabilityStore } from './capabilities.js';
import { ReceivedCaps } from './received-caps.js';

/** Bound of the messaging memo, per holder and in holders (refilled on demand). */
const MEMO_LIMIT = 10_000;

export class CapabilityGate {
  /** caps that arrived on messages delivered to each process (what save-capabilities may store) */
  private readonly received = new ReceivedCaps();
  /**
   * Messaging-capability answers per sender key and target text, forgotten on every change of
   * the capability store: the check builds a capability and its key text twice per HTTP request.
   */
  private readonly allowed = new Map<string, Map<string, boolean>>();

  constructor(
    private readonly caps: CapabilityStore,
    private readonly node: string,
  ) {}

  /** The capability store changed: remembered answers may be wrong now. */
  storeChanged(): void {
    this.allowed.clear();
  }

  messagingCap(pid: ProcessId): Capability {
    return { issuer: { node: this.node, process: pid }, params: MESSAGING };
  }

  /** Does `holder` hold messaging for `target` (for a module: under either era's name)? Memoized. */
  mayMessage(holder: string, targetText: string, target: ProcessId, modulePids?: { v0: ProcessId; v1: ProcessId }): boolean {
    let forHolder = this.allowed.get(holder);
    const known = forHolder?.get(targetText);
    if (known !== undefined) return known;
    const yes = modulePids
      ? this.caps.has(holder, this.messagingCap(modulePids.v0)) || this.caps.has(holder, this.messagingCap(modulePids.v1))
      : this.caps.has(holder, this.messagingCap(target));
    if (!forHolder) {
      if (this.allowed.size >= MEMO_LIMIT) this.allowed.clear();
      this.allowed.set(holder, (forHolder = new Map()));
    }
    if (forHolder.size < MEMO_LIMIT) forHolder.set(targetText, yes);
    return yes;
  }

  /** Attached capabilities survive only if the sender (`holder`, address `own`) holds or issued them. */
  filterAttached(holder: string, own: string, message: Message): Message {
    const caps = message.tag === 'request' ? message.val.capabilities : message.val[0].capabilities;
    if (caps.length === 0) return message;
    const kept = caps.filter((c) => addrStr(c.issuer) === own || this.caps.has(holder, c));
    if (kept.length === caps.length) return message;
    return message.tag === 'request'
      ? { tag: 'request', val: { ...message.val, capabilities: kept } }
      : { tag: 'response', val: [{ ...message.val[0], capabilities: kept }, message.val[1]] };
  }

  /** A message was delivered to `holder`: its attached caps become savable by it. */
  delivered(holder: string, message: Message): void {
    this.received.note(holder, message.tag === 'request' ? message.val.capabilities : message.val[0].capabilities);
  }

  /**
   * save-capabilities (issue 11.1): a process may store only capabilities it already holds, that
   * it issued itself, or that arrived attached to a message delivered to it (attached caps were
   * already filtered to those their sender holds). Stores those; returns the refused rest.
   */
  save(holder: string, own: string, caps: Capability[]): Capability[] {
    const ok: Capability[] = [];
    const refused: Capability[] = [];
    for (const c of caps) {
      if (addrStr(c.issuer) === own || this.caps.has(holder, c) || this.received.has(holder, c)) ok.push(c);
      else refused.push(c);
    }
    this.caps.add(holder, ok);
    return refused;
  }

  /** The process is gone; with `revoke`, so is everything it issued. */
  forget(holder: string, revokeIssuedBy?: string): void {
    this.received.forget(holder);
    if (revokeIssuedBy !== undefined) this.received.forgetIssuedBy(revokeIssuedBy);
  }
}
