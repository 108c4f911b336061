// The homepage's app entries (added by processes with AddToHomepage), as the runtime keeps them:
// in memory only (processes re-add themselves after every boot), keyed by the adder's process
// id; only the order the user chose persists (runtime: the homepage's process state; here
// `<home>/homepage/order.json`, replaced atomically).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HomepageApp } from '../../wire/homepage.js';

/** Added apps from these processes start as favorites (both eras' app store name). */
const DEFAULT_FAVES = new Set(['chess:chess:sys', 'main:app_store:sys', 'main:app-store:sys', 'settings:settings:sys']);

export class AppRegistry {
  private readonly apps = new Map<string, HomepageApp>();
  private order = new Map<string, number>();
  private readonly file: string;
  /** bumps on every change (the live view re-sends apps only when it moved) */
  version = 0;

  constructor(
    dir: string,
    private readonly warn: (text: string) => void,
  ) {
    this.file = join(dir, 'order.json');
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (saved && typeof saved === 'object') {
        for (const [k, v] of Object.entries(saved)) if (typeof v === 'number') this.order.set(k, v);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warn(`homepage: ignoring unreadable ${this.file}: ${(e as Error).message}`);
    }
  }

  list(): HomepageApp[] {
    return [...this.apps.values()].sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
  }

  get(id: string): HomepageApp | undefined {
    return this.apps.get(id);
  }

  add(pid: { processName: string; packageName: string; publisherNode: string }, id: string, req: { label: string; icon: string | undefined; path: string | undefined; widget: string | undefined }): void {
    this.apps.set(id, {
      id,
      process: pid.processName,
      packageName: pid.packageName,
      publisher: pid.publisherNode,
      // `/<process id>/<path without one leading />`
      path: req.path === undefined ? undefined : `/${id}/${req.path.startsWith('/') ? req.path.slice(1) : req.path}`,
      label: req.label,
      icon: req.icon,
      widget: req.widget,
      // the runtime counts the entries before inserting (a re-add counts itself)
      order: this.order.get(id) ?? this.apps.size,
      favorite: DEFAULT_FAVES.has(id),
    });
    this.version++;
  }

  remove(id: string): void {
    const had = this.apps.delete(id);
    if (this.order.delete(id)) this.save();
    if (had) this.version++;
  }

  setFavorite(id: string, favorite: boolean): void {
    const a = this.apps.get(id);
    if (!a) return;
    a.favorite = favorite;
    this.version++;
  }

  /** `/order`: set the given entries' order and persist exactly this list (as the runtime does). */
  setOrder(list: Array<[string, number]>): void {
    for (const [id, n] of list) {
      const a = this.apps.get(id);
      if (a) a.order = n;
    }
    this.order = new Map(list);
    this.save();
    this.version++;
  }

  private save(): void {
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      writeFileSync(`${this.file}.tmp`, JSON.stringify(Object.fromEntries(this.order)));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (e) {
      this.warn(`homepage: cannot save the app order: ${(e as Error).message}`);
    }
  }
}
