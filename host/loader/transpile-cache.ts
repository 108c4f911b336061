// Turns a component into something a worker can instantiate: jco transpiles it (instantiation
// mode: the host passes the imports) once per wasm sha256, cached on disk under the node home;
// the core modules are compiled once per node and handed to workers as WebAssembly.Module
// objects, so a warm process start does neither transpile nor compile. The compile is started
// by the caller (`compile`), after it has handed the worker what it needs to load the glue: the
// two overlap (docs/performance.md §25).

import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import type { Generation } from '../types.js';
import { componentImportNames, NotAComponentError } from './component-imports.js';
import { unversioned, WASI_INTERFACES } from './wasi-interfaces.js';
import { patchGlue } from './glue-patch.js';
import { capPages } from './memory-limit.js';
import { compileCoreModules, coreRanges, type CoreRanges } from './core-modules.js';
import { VALIDATED_BY } from './compile-gate.js';
import { asScript } from './glue-script.js';
import { compactScript } from './glue-minify.js';

export interface PreparedComponent {
  hash: string;
  generation: Generation;
  /** path of the transpiled ES module */
  jsPath: string;
  /** jco import keys, e.g. 'kinode:process/standard', 'wasi:io/streams' */
  importKeys: string[];
  /** the compiled core modules, once `compile` has compiled them */
  coreModules: Record<string, WebAssembly.Module> | undefined;
  /** compiles the core modules (the first call; later ones get the same promise) */
  compile(): Promise<Record<string, WebAssembly.Module>>;
  /** true when this call transpiled (cold start) */
  transpiled: boolean;
}

export class ComponentLoadError extends Error {}

/** Bumped when what we write into a cache entry changes. */
const CACHE_FORMAT = 'v5';

const STANDARD = 'kinode:process/standard';
const WORLD_VERSION: Record<Generation, string> = { 0: '0.8.0', 1: '1.0.0' };

export class TranspileCache {
  private readonly prepared = new Map<string, Promise<PreparedComponent>>();

  constructor(
    private readonly cacheDir: string,
    /** wasm linear memory cap per memory (--max-process-memory); none when undefined */
    private readonly limits: { maxMemoryBytes?: number } = {},
  ) {}

  /**
   * `label` names the file in error messages. `bytes` are consumed: compiling may rewrite parts
   * of them in place (core-modules.ts), so the caller must not use them afterwards.
   */
  prepare(bytes: Uint8Array, expected: Generation, label: string): Promise<PreparedComponent> {
    const hash = createHash('sha256').update(bytes).digest('hex');
    const key = `${hash}:${expected}`;
    let p = this.prepared.get(key);
    if (!p) {
      p = this.load(bytes, hash, expected, label);
      this.prepared.set(key, p);
      p.catch(() => this.prepared.delete(key));
    }
    return p;
  }

  private async load(bytes: Uint8Array, hash: string, expected: Generation, label: string): Promise<PreparedComponent> {
    checkImports(bytes, expected, label);
    const dir = join(this.cacheDir, `${hash}-${CACHE_FORMAT}`);
    const jsPath = join(dir, 'component.mjs');
    let transpiled = false;
    if (!existsSync(jsPath)) {
      await this.transpileInto(bytes, dir, label);
      transpiled = true;
    }
    // two small reads on a warm start's path: synchronously (package/small-files.ts says why)
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { imports: string[]; exports: string[]; cores?: CoreRanges };
    if (!meta.exports.includes('init')) throw new ComponentLoadError(`${label}: component does not export init`);
    const wasmFiles = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
    const max = this.limits.maxMemoryBytes;
    // a file naming the V8 that compiled these bytes with every body validated (compile-gate.ts)
    const validated = join(dir, VALIDATED_BY);
    const trusted = existsSync(validated);
    let compiling: Promise<Record<string, WebAssembly.Module>> | undefined;
    const prepared: PreparedComponent = {
      hash,
      generation: expected,
      jsPath,
      importKeys: meta.imports,
      coreModules: undefined,
      transpiled,
      compile: () =>
        (compiling ??= compileCoreModules(dir, wasmFiles, bytes, meta.cores, max === undefined ? undefined : capPages(max), trusted).then(
          (m) => {
            // best effort: without the record the next node validates again
            if (!trusted) writeFile(validated, '').catch(() => {});
            return (prepared.coreModules = m);
          },
          (e: Error) => {
            // the next start of these bytes tries again (a cap rewrite or a compile that failed)
            this.prepared.delete(`${hash}:${expected}`);
            throw new ComponentLoadError(`${label}: ${e.message}`);
          },
        )),
    };
    return prepared;
  }

  private async transpileInto(bytes: Uint8Array, dir: string, label: string): Promise<void> {
    let result;
    try {
      result = await transpileBytes(bytes, { name: 'component', instantiation: 'sync', emitTypescriptDeclarations: false });
    } catch (e) {
      throw new ComponentLoadError(`${label}: transpile failed: ${(e as Error).message.split('\n')[0]}`);
    }
    // write into a temp dir and rename, so a crash never leaves a half-written cache entry
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true });
    for (const [name, content] of Object.entries(result.files)) {
      if (name === 'component.js') {
        const glue = patchGlue(Buffer.from(content).toString('utf8'));
        await writeFile(join(tmp, 'component.mjs'), glue);
        // the form workers load (process/glue-loader.ts), printed compactly (glue-minify.ts)
        const script = asScript(glue);
        if (script !== undefined) await writeFile(join(tmp, 'component.mjs.script'), await compactScript(script));
      } else if (!name.endsWith('.d.ts')) {
        await writeFile(join(tmp, name), content);
      }
    }
    const exports = result.exports.map(([name]) => name);
    // where the core modules lie in the component: a warm start compiles them from its bytes
    const cores = coreRanges(bytes, Object.fromEntries(Object.entries(result.files).filter(([n]) => n.endsWith('.wasm'))));
    await writeFile(join(tmp, 'meta.json'), JSON.stringify({ imports: result.imports, exports, cores }));
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  }
}

/** Refuse a file that is not a component, is built for the other world, or imports what we lack. */
export function checkImports(bytes: Uint8Array, expected: Generation, label: string): string[] {
  let names: string[];
  try {
    names = componentImportNames(bytes);
  } catch (e) {
    if (e instanceof NotAComponentError) throw new ComponentLoadError(`${label}: ${e.message}`);
    throw e;
  }
  const standard = names.filter((n) => unversioned(n) === STANDARD);
  const want = `${STANDARD}@${WORLD_VERSION[expected]}`;
  for (const s of standard) {
    if (s !== want) {
      throw new ComponentLoadError(
        `${label}: component imports ${s} but the package declares wit_version ${expected} (world process-v${expected} needs ${want})`,
      );
    }
  }
  for (const n of names) {
    const base = unversioned(n);
    if (base !== STANDARD && !(base in WASI_INTERFACES)) {
      throw new ComponentLoadError(`${label}: component imports ${n}, which this host does not provide`);
    }
  }
  return names;
}
