// Installing a package the way app-store does: write its files to its drive, then apply the
// manifest (kill existing -> initialize with requested caps -> grant caps -> run, in manifest
// order). State is keyed by process id and therefore survives a reinstall.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Capability, Generation, ProcessId } from '../types.js';
import { NETWORK, pidStr } from '../kernel/address.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Drive } from './drive.js';
import { checkImports } from '../loader/transpile-cache.js';
import { componentImportNames } from '../loader/component-imports.js';
import { ManifestError, parseCapEntry, parseManifest, type ManifestEntry } from './manifest.js';
import { readPackage } from './source.js';

export interface InstallResult {
  packageId: string;
  processes: ProcessId[];
  started: ProcessId[];
}

export async function installPackage(kernel: Kernel, drive: Drive, path: string): Promise<InstallResult> {
  const src = await readPackage(path);
  const pkg = `${src.metadata.packageName}:${src.metadata.publisher}`;
  const manifestBytes = src.files.get('manifest.json');
  if (!manifestBytes) throw new ManifestError(`${src.label}: no manifest.json in the package`);
  const entries = parseManifest(Buffer.from(manifestBytes).toString('utf8'), `${src.label}: manifest.json`);

  const generations = entries.map((e) => generationOf(e, src.files, src.metadata.witVersion, src.label));

  // the drive: wiped and rewritten, like app-store does on install
  const pkgDir = drive.packageDir(pkg);
  await rm(pkgDir, { recursive: true, force: true });
  for (const [rel, bytes] of src.files) {
    const host = drive.hostPath(`/${pkg}/pkg/${rel}`);
    if (!host) throw new ManifestError(`${src.label}: file ${rel} escapes the package drive`);
    await mkdir(dirname(host), { recursive: true });
    await writeFile(host, bytes);
  }

  const driveCaps = (kind: string): Capability => ({
    issuer: { node: kernel.node, process: { processName: 'vfs', packageName: 'distro', publisherNode: 'sys' } },
    params: JSON.stringify({ kind, drive: `/${pkg}/pkg` }),
  });

  const pids: ProcessId[] = [];
  for (const [i, e] of entries.entries()) {
    const pid: ProcessId = { processName: e.processName, packageName: src.metadata.packageName, publisherNode: src.metadata.publisher };
    const gen = generations[i]!;
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
      caps.push({ issuer: { node: kernel.node, process: { processName: 'kernel', packageName: 'distro', publisherNode: 'sys' } }, params: NETWORK });
    }
    caps.push(driveCaps('read'), driveCaps('write'));
    kernel.initialize({ pid, generation: gen, wasmPath: `/${pkg}/pkg/${e.wasmPath.slice(1)}`, onExit: e.onExit, public: e.public }, caps);
    pids.push(pid);
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
  const started: ProcessId[] = [];
  for (const pid of pids) if (await kernel.run(pid)) started.push(pid);
  return { packageId: pkg, processes: pids, started };
}

/** wit_version picks the world; with none given, the component's own import decides. */
function generationOf(e: ManifestEntry, files: Map<string, Uint8Array>, witVersion: number | undefined, label: string): Generation {
  const wasm = files.get(e.wasmPath.slice(1));
  if (!wasm) throw new ManifestError(`${label}: ${e.processName}: ${e.wasmPath} is not in the package`);
  if (witVersion === 0) return 0;
  if (witVersion !== undefined && witVersion >= 1) return 1;
  let names: string[];
  try {
    names = componentImportNames(wasm);
  } catch (err) {
    // reported precisely when the process runs
    checkImports(wasm, 1, `${label}: ${e.wasmPath}`);
    throw err;
  }
  return names.some((n) => n === 'kinode:process/standard@0.8.0') ? 0 : 1;
}

