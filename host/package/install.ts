// Applying a package the way the runtime's app store does: check it, write its files to its
// `pkg` drive (wiped first), then apply the manifest (kill existing -> initialize with requested
// caps -> grant caps -> run, in manifest order). State is keyed by process id and therefore
// survives a reinstall. The app store module (host/modules/app-store) decides *what* to install
// (a kit zip received over RPC, or a folder/zip given to the CLI); this file does the install.

import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Capability, Generation, ProcessId } from '../types.js';
import { NETWORK, pidStr } from '../kernel/address.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Drive } from './drive.js';
import { writeSmallFirst } from './small-files.js';
import { checkImports } from '../loader/transpile-cache.js';
import { componentImportNames } from '../loader/component-imports.js';
import { ManifestError, parseCapEntry, parseManifest, type ManifestEntry } from './manifest.js';
import type { PackageSource } from './source.js';
import { KERNEL_NAMES, VFS_NAMES } from '../wire/names.js';

export interface InstallResult {
  packageId: string;
  processes: ProcessId[];
  started: ProcessId[];
}

/** A package written and its processes initialized with their caps, not yet running. */
export interface StagedInstall {
  packageId: string;
  processes: ProcessId[];
  /** RunProcess for each, in manifest order; resolves with those that started */
  run(): Promise<ProcessId[]>;
}

const [vfsName, vfsPkg, vfsPub] = VFS_NAMES.v1.split(':') as [string, string, string];
const [kName, kPkg, kPub] = KERNEL_NAMES.v1.split(':') as [string, string, string];

/** The capability `kind` (read/write) on a drive, issued by vfs. */
export function driveCap(node: string, kind: 'read' | 'write', drive: string): Capability {
  return {
    issuer: { node, process: { processName: vfsName, packageName: vfsPkg, publisherNode: vfsPub } },
    params: JSON.stringify({ kind, drive }),
  };
}

/**
 * Install `src` into the kernel up to running its processes. Everything that can be checked is
 * checked before anything is touched (manifest, every wasm present, world of every component):
 * a bad package leaves the installed one as it was and throws ManifestError with the reason.
 * Running is left to the caller because loading a component can take seconds (the first time
 * it is compiled): the runtime's app store answers Install once its RunProcess requests are
 * accepted, not once the processes are up, and kit waits only 15 s for that answer.
 */
export async function stagePackage(kernel: Kernel, drive: Drive, src: PackageSource): Promise<StagedInstall> {
  const pkg = `${src.metadata.packageName}:${src.metadata.publisher}`;
  const manifestBytes = src.files.get('manifest.json');
  if (!manifestBytes) throw new ManifestError(`${src.label}: no manifest.json in the package`);
  const entries = parseManifest(Buffer.from(manifestBytes).toString('utf8'), `${src.label}: manifest.json`);
  const generations = entries.map((e) => generationOf(e, src.files, src.metadata.witVersion, src.label));
  const pids: ProcessId[] = entries.map((e) => ({
    processName: e.processName,
    packageName: src.metadata.packageName,
    publisherNode: src.metadata.publisher,
  }));
  for (const rel of src.files.keys()) {
    if (!drive.hostPath(`/${pkg}/pkg/${rel}`)) throw new ManifestError(`${src.label}: file ${rel} escapes the package drive`);
  }

  // the drive: wiped and rewritten, like the app store does on install
  // (synchronously but for large files: each thread-pool round trip cost more than the work, small-files.ts)
  const pkgDir = drive.packageDir(pkg);
  rmSync(pkgDir, { recursive: true, force: true });
  const made = new Set<string>();
  for (const [rel, bytes] of src.files) {
    const host = drive.hostPath(`/${pkg}/pkg/${rel}`)!;
    const dir = dirname(host);
    if (!made.has(dir)) mkdirSync(dir, { recursive: true });
    made.add(dir);
    await writeSmallFirst(host, bytes);
  }

  // each wasm's bytes, as just written, go to the first process that runs that file: the kernel
  // then neither reads 12 MB back nor faults in a fresh copy (docs/performance.md §20). Starting
  // consumes them (the memory cap is rewritten in place), so a second process of the same file
  // reads the drive
  const handed = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const pid = pids[i]!;
    const gen = generations[i]!;
    const rel = e.wasmPath.slice(1);
    const staged = handed.has(rel) ? undefined : src.files.get(rel);
    handed.add(rel);
    await kernel.kill(pid);
    kernel.caps.clear(pidStr(pid)); // a reinstall starts from the manifest's capabilities
    const caps: Capability[] = [];
    for (const raw of e.requestCapabilities) {
      const c = parseCapEntry(raw, gen);
      if ('error' in c) {
        kernel.print(0, `app-store: ${pidStr(pid)}: skipping requested capability: ${c.error}`);
        continue;
      }
      caps.push({ issuer: { node: kernel.node, process: c.process }, params: c.params });
    }
    if (e.requestNetworking) {
      caps.push({ issuer: { node: kernel.node, process: { processName: kName, packageName: kPkg, publisherNode: kPub } }, params: NETWORK });
    }
    caps.push(driveCap(kernel.node, 'read', `/${pkg}/pkg`), driveCap(kernel.node, 'write', `/${pkg}/pkg`));
    kernel.initialize({ pid, generation: gen, wasmPath: `/${pkg}/pkg/${rel}`, onExit: e.onExit, public: e.public }, caps, staged);
  }
  for (const [i, e] of entries.entries()) {
    const pid = pids[i]!;
    for (const raw of e.grantCapabilities) {
      const c = parseCapEntry(raw, generations[i]!);
      if ('error' in c) {
        kernel.print(0, `app-store: ${pidStr(pid)}: skipping granted capability: ${c.error}`);
        continue;
      }
      kernel.caps.add(kernel.holderKey(pidStr(c.process)), [{ issuer: { node: kernel.node, process: pid }, params: c.params }]);
    }
  }
  return {
    packageId: pkg,
    processes: pids,
    run: async () => {
      const started: ProcessId[] = [];
      for (const pid of pids) if (await kernel.run(pid)) started.push(pid);
      return started;
    },
  };
}

/** wit_version picks the world; with none given, the component's own import decides. */
function generationOf(e: ManifestEntry, files: Map<string, Uint8Array>, witVersion: number | undefined, label: string): Generation {
  const wasm = files.get(e.wasmPath.slice(1));
  if (!wasm) throw new ManifestError(`${label}: ${e.processName}: ${e.wasmPath} is not in the package`);
  if (witVersion === 0) return 0;
  if (witVersion !== undefined && witVersion >= 1) return 1;
  return componentGeneration(wasm, `${label}: ${e.wasmPath}`);
}

/** The world a component was built for, read from its `kinode:process/standard` import. */
export function componentGeneration(wasm: Uint8Array, label: string): Generation {
  let names: string[];
  try {
    names = componentImportNames(wasm);
  } catch (err) {
    // reported precisely when the process runs
    checkImports(wasm, 1, label);
    throw err;
  }
  return names.some((n) => n === 'kinode:process/standard@0.8.0') ? 0 : 1;
}
