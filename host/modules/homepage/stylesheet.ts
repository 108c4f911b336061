// `/kinode.css`: the default sheet until SetStylesheet replaces it; the replacement persists
// (`<home>/homepage/kinode.css`, written atomically) like the runtime's persisted-kinode.css.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CSS } from './assets.js';

export class Stylesheet {
  private css: string;
  private readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly warn: (text: string) => void,
  ) {
    this.file = join(dir, 'kinode.css');
    try {
      this.css = readFileSync(this.file, 'utf8');
    } catch {
      this.css = DEFAULT_CSS;
    }
  }

  get(): string {
    return this.css;
  }

  set(css: string): void {
    this.css = css;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(`${this.file}.tmp`, css);
      renameSync(`${this.file}.tmp`, this.file);
    } catch (e) {
      this.warn(`homepage: cannot save kinode.css: ${(e as Error).message}`);
    }
  }
}
