// Who holds which capability. Holders are keyed by canonical process-id text; equality of
// capabilities is issuer address plus params compared as parsed JSON, as in the runtime.

import type { Capability } from '../types.js';
import { addrStr, capKey } from './address.js';

export class CapabilityStore {
  private readonly held = new Map<string, Map<string, Capability>>();

  constructor(private readonly onChange: () => void = () => {}) {}

  all(holder: string): Capability[] {
    return [...(this.held.get(holder)?.values() ?? [])];
  }

  has(holder: string, cap: Capability): boolean {
    return this.held.get(holder)?.has(capKey(cap)) ?? false;
  }

  add(holder: string, caps: Capability[]): void {
    if (caps.length === 0) return;
    let m = this.held.get(holder);
    if (!m) this.held.set(holder, (m = new Map()));
    for (const c of caps) m.set(capKey(c), { issuer: c.issuer, params: c.params });
    this.onChange();
  }

  remove(holder: string, caps: Capability[]): void {
    const m = this.held.get(holder);
    if (!m) return;
    for (const c of caps) m.delete(capKey(c));
    this.onChange();
  }

  /** Forget everything a holder has (its process was removed). */
  clear(holder: string): void {
    if (this.held.delete(holder)) this.onChange();
  }

  /** Revoke, from every holder, the capabilities issued by `issuerAddr`. */
  revokeIssuedBy(issuerAddr: string): void {
    for (const m of this.held.values()) {
      for (const [k, c] of m) if (addrStr(c.issuer) === issuerAddr) m.delete(k);
    }
    this.onChange();
  }

  toJSON(): Record<string, Capability[]> {
    const out: Record<string, Capability[]> = {};
    for (const [h, m] of this.held) out[h] = [...m.values()];
    return out;
  }

  load(data: Record<string, Capability[]>): void {
    for (const [h, caps] of Object.entries(data)) this.add(h, caps);
  }
}
