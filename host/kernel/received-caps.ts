// Capabilities that arrived attached to messages delivered to a process: the evidence that lets
// `save-capabilities` store a capability the process neither holds nor issued (issue 11.1; the
// runtime stores whatever a process asks for). One bounded record per process, kept by the
// kernel for as long as the process exists (across restarts of its instance, since a restarted
// process may save what it kept in its state) and dropped when the process is removed. When an
// issuer goes away its capabilities are forgotten here too, as they are revoked from holders.

import type { Capability } from '../types.js';
import { addrStr, capKey } from './address.js';

/** Per process: the most recent distinct received capabilities (older ones fall out first). */
export const RECEIVED_CAPS_PER_PROCESS = 1024;

export class ReceivedCaps {
  /** holder key -> capKey -> cap, in insertion (recency) order */
  private readonly byHolder = new Map<string, Map<string, Capability>>();

  constructor(private readonly limit = RECEIVED_CAPS_PER_PROCESS) {}

  note(holder: string, caps: readonly Capability[]): void {
    if (caps.length === 0) return;
    let m = this.byHolder.get(holder);
    if (!m) this.byHolder.set(holder, (m = new Map()));
    for (const c of caps) {
      const k = capKey(c);
      m.delete(k); // re-inserting moves it to the recent end
      m.set(k, { issuer: c.issuer, params: c.params });
      if (m.size > this.limit) m.delete(m.keys().next().value!);
    }
  }

  has(holder: string, cap: Capability): boolean {
    return this.byHolder.get(holder)?.has(capKey(cap)) ?? false;
  }

  /** The process is gone: its record goes with it. */
  forget(holder: string): void {
    this.byHolder.delete(holder);
  }

  /** An issuer is gone: nobody may save its capabilities on the strength of having seen them. */
  forgetIssuedBy(issuerAddr: string): void {
    for (const m of this.byHolder.values()) {
      for (const [k, c] of m) if (addrStr(c.issuer) === issuerAddr) m.delete(k);
    }
  }
}
