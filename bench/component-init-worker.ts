// The floor under a warm process start (bench section 5, docs/performance.md §37): what Node
// itself needs to bring a component to its first print, with no kernel, no install, no messaging
// and no ring. A booted worker thread, told to go, reads the component's file, compiles its core
// modules (as the host would: through loader/compile-gate.ts, validation deferred when the home
// records an earlier validation), loads jco's glue with its code cache, instantiates it with the
// host's WASI and a `standard` interface whose every function throws, except `print-to-terminal`,
// which ends the run: init's first print is the moment timed.
//
// It must run in a process where these bytes were never compiled: V8 keeps compiled modules per
// process by their bytes, so a second compile would find the first one's code.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { compileTrusted, compileValidating, VALIDATED_BY } from '../host/loader/compile-gate.js';
import type { CoreRanges } from '../host/loader/core-modules.js';
import { loadGlue } from '../host/process/glue-loader.js';
import { setupWasi } from '../host/process/wasi.js';

const { wasm, entry, our } = workerData as { wasm: string; entry: string; our: string };

class FirstPrint extends Error {}

async function untilFirstPrint(): Promise<string> {
  const bytes = readFileSync(wasm);
  const meta = JSON.parse(readFileSync(join(entry, 'meta.json'), 'utf8')) as { imports: string[]; cores: CoreRanges };
  const compile = existsSync(join(entry, VALIDATED_BY)) ? compileTrusted : compileValidating;
  // each core module as the host compiles it: its slice of the component, or jco's file
  const names = readdirSync(entry).filter((f) => f.endsWith('.wasm'));
  const compiling = Promise.all(
    names.map(async (name) => {
      const r = meta.cores[name];
      return [name, await compile(r ? bytes.subarray(r[0], r[0] + r[1]) : readFileSync(join(entry, name)))] as const;
    }),
  );
  const wasi = await setupWasi(undefined, meta.imports);
  const glue = await loadGlue(join(entry, 'component.mjs'));
  const modules = Object.fromEntries(await compiling);
  const standard = new Proxy({} as Record<string, unknown>, {
    get: (_, name) =>
      name === 'printToTerminal'
        ? (_level: number, text: string) => {
            throw new FirstPrint(text);
          }
        : () => {
            throw new Error(`the floor's stub kinode:process/standard has no ${String(name)}`);
          },
  });
  const imports: Record<string, unknown> = {};
  for (const key of meta.imports) imports[key] = key === 'kinode:process/standard' ? standard : wasi.imports[key];
  const instance = glue.instantiate((name) => modules[name]!, imports);
  try {
    instance.init(our);
  } catch (e) {
    if (e instanceof FirstPrint) return e.message;
    throw e;
  }
  throw new Error('init returned without printing');
}

parentPort!.once('message', () => {
  const t0 = performance.now();
  untilFirstPrint().then(
    (printed) => parentPort!.postMessage({ ms: performance.now() - t0, printed }),
    (e: Error) => parentPort!.postMessage({ error: `${e.name}: ${e.message}` }),
  );
});
parentPort!.postMessage('up');
