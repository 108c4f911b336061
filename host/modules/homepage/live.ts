// The start page's data and its live feed. A snapshot is what the page renders: installed
// packages (with their homepage entries, else their bound paths as links), widgets, processes
// (generation, running, restarts, wasm memory + JS heap), recent exits, bound HTTP and
// WebSocket paths, and recent messages (source -> target, size). The page gets one snapshot
// inside its HTML and then one a second over its WebSocket channel(s). The kernel's message tap
// is set only while at least one channel is open; messages between the homepage and
// http-server (the feed itself) are left out of the ring.

import type { KernelObserver, ProcessView } from '../../kernel/observer.js';
import type { KernelMessage } from '../../types.js';
import type { HomepageApp } from '../../wire/homepage.js';
import type { BoundPath } from '../http-server/index.js';

export const LIVE_INTERVAL_MS = 1000;
export const MESSAGE_RING = 200;
/** messages and exits shown on the page */
export const RECENT_SHOWN = 40;

export interface MessageSeen {
  at: number;
  source: string;
  target: string;
  kind: 'request' | 'response';
  bytes: number;
}

export interface PackageView {
  /** `package:publisher` */
  id: string;
  label: string;
  icon: string | null;
  /** where its UI is: its homepage entry's path, else its first plain bound HTTP path */
  link: string | null;
  links: string[];
  processes: string[];
}

export interface Snapshot {
  node: string;
  version: string;
  at: number;
  memory: { rss: number; heapUsed: number };
  packages: PackageView[];
  widgets: Array<{ id: string; label: string; widget: string }>;
  processes: Array<ProcessView & { memory: { wasm: number; heap: number } | null }>;
  exited: Array<{ pid: string; at: number }>;
  bindings: BoundPath[];
  messages: MessageSeen[];
}

/** A fixed-size ring of recent items, newest last. */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly cap: number) {}

  push(item: T): void {
    if (this.items.length < this.cap) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.cap;
  }

  /** The newest `n`, oldest first. */
  recent(n: number): T[] {
    const all = this.items.length < this.cap ? this.items : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
    return all.slice(-n);
  }
}

const packageOf = (pid: string): string => pid.slice(pid.indexOf(':') + 1);
const plainPath = (p: string): boolean => !/[:*]/.test(p.split('/').slice(2).join('/'));

export function buildPackages(processes: ProcessView[], apps: HomepageApp[], bindings: BoundPath[]): PackageView[] {
  const pkgs = new Map<string, PackageView & { order: number }>();
  const get = (id: string): PackageView & { order: number } => {
    let p = pkgs.get(id);
    if (!p) pkgs.set(id, (p = { id, label: id.split(':')[0]!, icon: null, link: null, links: [], processes: [], order: Number.MAX_SAFE_INTEGER }));
    return p;
  };
  for (const pr of processes) get(packageOf(pr.pid)).processes.push(pr.pid);
  for (const b of bindings) {
    if (b.kind !== 'http' || b.owner === 'homepage:homepage:sys' || !plainPath(b.path)) continue;
    const p = get(packageOf(b.owner));
    p.links.push(b.path === '' ? '/' : b.path);
  }
  for (const p of pkgs.values()) {
    p.links.sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
    p.link = p.links[0] ?? null;
  }
  // homepage entries win: the one with the lowest order names the package
  for (const a of [...apps].sort((x, y) => y.order - x.order)) {
    const p = get(`${a.packageName}:${a.publisher}`);
    p.label = a.label;
    p.icon = a.icon ?? null;
    if (a.path !== undefined) p.link = a.path;
    p.order = Math.min(p.order, a.order);
  }
  return [...pkgs.values()]
    .sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1))
    .map(({ order: _order, ...p }) => p);
}

export interface LiveDeps {
  observer: () => KernelObserver | undefined;
  /** send one text frame on a channel */
  push: (channelId: number, text: string) => void;
  snapshot: () => Promise<Snapshot>;
  /** true for the feed's own traffic (homepage <-> http-server) */
  isOwnTraffic: (sourceKey: string, targetKey: string) => boolean;
}

export class LiveFeed {
  readonly messages = new Ring<MessageSeen>(MESSAGE_RING);
  private readonly channels = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly d: LiveDeps) {}

  private readonly tap = (km: KernelMessage, sourceKey: string, targetKey: string): void => {
    if (this.d.isOwnTraffic(sourceKey, targetKey)) return;
    const isReq = km.message.tag === 'request';
    const body = isReq ? (km.message.val as { body: Uint8Array }).body : (km.message.val as [{ body: Uint8Array }, unknown])[0].body;
    this.messages.push({ at: Date.now(), source: sourceKey, target: targetKey, kind: isReq ? 'request' : 'response', bytes: body.length + (km.lazyLoadBlob?.bytes.length ?? 0) });
  };

  get watching(): number {
    return this.channels.size;
  }

  open(channelId: number): void {
    this.channels.add(channelId);
    if (this.channels.size === 1) {
      this.d.observer()?.setMessageTap(this.tap);
      this.timer = setInterval(() => void this.broadcast(), LIVE_INTERVAL_MS);
      this.timer.unref();
    }
    void this.send([channelId]);
  }

  close(channelId: number): void {
    if (!this.channels.delete(channelId) || this.channels.size > 0) return;
    this.d.observer()?.setMessageTap(undefined);
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private broadcast(): Promise<void> {
    return this.send([...this.channels]);
  }

  private async send(ids: number[]): Promise<void> {
    const text = JSON.stringify(await this.d.snapshot());
    for (const id of ids) if (this.channels.has(id)) this.d.push(id, text);
  }

  stop(): void {
    this.channels.clear();
    this.d.observer()?.setMessageTap(undefined);
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
