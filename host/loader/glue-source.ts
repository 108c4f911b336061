// What a process worker needs to load jco's glue, read by the kernel thread while it compiles
// the core modules: the glue's script form (made from component.mjs once and kept beside it as
// `component.mjs.script`) and V8's code cache of it (`component.mjs.v8cache`, written by a
// worker, process/glue-loader.ts). Reading them in the worker put ~5 ms of file reading and
// UTF-8 decoding of the ~300 KB script on every start's critical path (docs/performance.md,
// "Rust start"); here they are read once per node, concurrently with compiling, and every
// start of the component posts them to its worker with the rest of its WorkerInit.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { asScript } from './glue-script.js';

export interface GlueSource {
  /** the glue as a classic script (glue-script.ts); undefined: import component.mjs as the ES module it is */
  script: string | undefined;
  /** V8's code cache of `script`; undefined when none was written yet (the worker then looks again) */
  codeCache: Uint8Array | undefined;
}

export const scriptPathOf = (jsPath: string): string => `${jsPath}.script`;
export const codeCachePathOf = (jsPath: string): string => `${jsPath}.v8cache`;

async function readIfThere<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The glue of the cache entry whose component.mjs is `jsPath`, making its script form if missing. */
export async function readGlueSource(jsPath: string): Promise<GlueSource> {
  const scriptPath = scriptPathOf(jsPath);
  const [cached, codeCache] = await Promise.all([
    readIfThere(() => readFile(scriptPath, 'utf8')),
    readIfThere(() => readFile(codeCachePathOf(jsPath))),
  ]);
  if (cached !== undefined) return { script: cached, codeCache };
  const script = asScript(await readFile(jsPath, 'utf8'));
  if (script !== undefined) {
    // through a temp file and a rename: a reader sees all of it or nothing
    const tmp = `${scriptPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await writeFile(tmp, script);
      await rename(tmp, scriptPath);
    } catch {
      // a script form we cannot keep is only made again next time
    }
  }
  // asScript is deterministic: a code cache left beside a lost script form still fits (V8 checks it)
  return { script, codeCache };
}
