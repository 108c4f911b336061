// Loads jco's transpiled glue (component.mjs) in a process worker. The glue is large (~400 KB
// for a small Rust component) and every worker would parse and compile it again; as a classic
// script it can use V8's code cache, kept beside the glue in the transpile cache
// (`component.mjs.v8cache`), which cuts a warm process start by several milliseconds. The script
// form itself is kept there too (`component.mjs.script`, written compactly at transpile time,
// loader/glue-minify.ts; for an older cache entry, by its first worker): making it scans the
// 300 KB text, a cost every start would pay again. Glue whose shape we do not recognise is
// imported as the ES module it is.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { asScript } from '../loader/glue-script.js';

export type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore?: (module: WebAssembly.Module, imports?: unknown) => { exports: Record<string, unknown> },
) => { init(our: string): void };

export interface LoadedGlue {
  instantiate: Instantiate;
  /**
   * Write the code cache if there was none or V8 rejected it. Called when the process first
   * parks: the cache then covers the code init ran too, and the write is off the start path.
   */
  saveCodeCache(): void;
}

/** Write `bytes` to `path` through a temp file and a rename: readers see all of it or nothing. */
function writeAtomically(path: string, bytes: string | Uint8Array): void {
  try {
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch {
    // a cache we cannot write only costs the next start the work again
  }
}

/** The glue's script form, from its cached copy or made (and cached) from the glue. */
function scriptOf(jsPath: string): string | undefined {
  const scriptPath = `${jsPath}.script`;
  if (existsSync(scriptPath)) return readFileSync(scriptPath, 'utf8');
  const script = asScript(readFileSync(jsPath, 'utf8'));
  if (script !== undefined) writeAtomically(scriptPath, script);
  return script;
}

export async function loadGlue(jsPath: string): Promise<LoadedGlue> {
  const script = scriptOf(jsPath);
  if (script === undefined) {
    const mod = (await import(pathToFileURL(jsPath).href)) as { instantiate: Instantiate };
    return { instantiate: mod.instantiate, saveCodeCache: () => {} };
  }
  const cachePath = `${jsPath}.v8cache`;
  const cachedData = existsSync(cachePath) ? readFileSync(cachePath) : undefined;
  const compiled = new Script(script, { filename: jsPath, cachedData });
  const exports = (compiled.runInThisContext() as () => { instantiate: Instantiate })();
  let needsCache = cachedData === undefined || compiled.cachedDataRejected === true;
  return {
    instantiate: exports.instantiate,
    saveCodeCache() {
      if (!needsCache) return;
      needsCache = false;
      writeAtomically(cachePath, compiled.createCachedData());
    },
  };
}
