// What the app store does with kit's two requests. NewPackage keeps the zip (checked to be a
// readable package zip) under the app store's downloads drive keyed by its SHA-256, as the
// runtime's `downloads` process does; Install looks that zip up by `version_hash` and installs
// it: the package's `pkg` drive wiped and refilled from the zip, the zip itself beside it as
// `<p>:<pub>.zip`, `api.zip` extracted to `api/`, then the manifest applied (kill, caps, run).
// Every failure is printed with its reason and answered with the runtime's failure variant.

import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Drive } from '../../package/drive.js';
import type { StagedInstall } from '../../package/install.js';
import { parseManifest } from '../../package/manifest.js';
import { unzipBytes, type PackageSource } from '../../package/source.js';
import { parseProcessId } from '../../kernel/address.js';
import type { InstallResponse, NewPackageResponse, PackageIdJson } from '../../wire/app-store.js';

export interface AppStoreEnv {
  drive: Drive;
  /** write the package and initialize its processes (not yet running) */
  stage: (src: PackageSource) => Promise<StagedInstall>;
  /** a line on the terminal (verbosity 0) */
  say: (line: string) => void;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** `p:pub`, or an Error naming what is wrong with the id. */
function packageText(id: PackageIdJson): string {
  const text = `${id.packageName}:${id.publisherNode}`;
  parseProcessId(`x:${text}`); // throws IdParseError with the runtime's reason
  if (id.packageName.includes('/') || id.publisherNode.includes('/') || id.packageName.startsWith('.')) {
    throw new Error(`bad package id ${text}`);
  }
  return text;
}

/** `<vfs>/<app-store drive>/downloads/<p>:<pub>` on the host. */
function downloadsDir(env: AppStoreEnv, storeDrive: string, pkg: string): string {
  return join(env.drive.root, storeDrive, 'downloads', pkg);
}

export async function newPackage(env: AppStoreEnv, storeDrive: string, id: PackageIdJson, zip: Uint8Array | undefined): Promise<NewPackageResponse> {
  let pkg: string;
  try {
    pkg = packageText(id);
  } catch (e) {
    env.say(`app-store: NewPackage: ${(e as Error).message}`);
    return 'InstallFailed';
  }
  if (!zip || zip.length === 0) {
    env.say(`app-store: NewPackage ${pkg}: no zip attached (the blob is empty)`);
    return 'NoBlob';
  }
  const hash = sha256(zip);
  let manifest: Uint8Array | undefined;
  try {
    const files = await unzipBytes(zip, `${pkg} zip`);
    manifest = files.get('manifest.json');
    if (!manifest) throw new Error(`${pkg} zip: no manifest.json at the zip's root`);
    parseManifest(Buffer.from(manifest).toString('utf8'), `${pkg} zip: manifest.json`);
  } catch (e) {
    env.say(`app-store: NewPackage ${pkg}: ${(e as Error).message}`);
    return 'InstallFailed';
  }
  const dir = downloadsDir(env, storeDrive, pkg);
  try {
    await mkdir(dir, { recursive: true });
    await writeAtomic(join(dir, `${hash}.zip`), zip);
    await writeAtomic(join(dir, `${hash}.json`), manifest);
  } catch (e) {
    env.say(`app-store: NewPackage ${pkg}: cannot store the zip: ${(e as Error).message}`);
    return 'InstallFailed';
  }
  env.say(`app-store: received ${pkg} (${zip.length} bytes, version hash ${hash})`);
  return 'Success';
}

/** The reply, and (on success) the processes still to be run, answered before they are. */
export interface InstallOutcome {
  reply: InstallResponse;
  run?: () => Promise<void>;
}

export async function install(env: AppStoreEnv, storeDrive: string, id: PackageIdJson, versionHash: string, witVersion: number | undefined): Promise<InstallOutcome> {
  const reply = await installStaged(env, storeDrive, id, versionHash, witVersion);
  if (typeof reply === 'string') return { reply };
  return {
    reply: 'Success',
    run: async () => {
      const started = await reply.run();
      env.say(`app-store: installed ${reply.packageId}: ${started.length}/${reply.processes.length} processes started`);
    },
  };
}

async function installStaged(env: AppStoreEnv, storeDrive: string, id: PackageIdJson, versionHash: string, witVersion: number | undefined): Promise<'Failure' | StagedInstall> {
  let pkg: string;
  try {
    pkg = packageText(id);
  } catch (e) {
    env.say(`app-store: Install: ${(e as Error).message}`);
    return 'Failure';
  }
  const dir = downloadsDir(env, storeDrive, pkg);
  if (!/^[0-9a-f]{64}$/.test(versionHash)) {
    env.say(`app-store: Install ${pkg}: version_hash ${JSON.stringify(versionHash)} is not a lowercase SHA-256 hex digest`);
    return 'Failure';
  }
  let zip: Uint8Array;
  try {
    zip = new Uint8Array(await readFile(join(dir, `${versionHash}.zip`)));
  } catch {
    const known = await readdir(dir).then((l) => l.filter((f) => f.endsWith('.zip')).map((f) => f.slice(0, -4)), () => []);
    env.say(
      known.length === 0
        ? `app-store: Install ${pkg}: no NewPackage received for ${pkg} (send the zip first)`
        : `app-store: Install ${pkg}: version_hash ${versionHash} matches no zip received for ${pkg} (have ${known.join(', ')})`,
    );
    return 'Failure';
  }
  try {
    const files = await unzipBytes(zip, `${pkg} zip`);
    return await env.stage(await withExtras({ metadata: { packageName: id.packageName, publisher: id.publisherNode, witVersion }, files, label: pkg, zip }));
  } catch (e) {
    env.say(`app-store: Install ${pkg}: ${(e as Error).message}`);
    return 'Failure';
  }
}

/** What the runtime's install adds to the files of the zip: the zip itself and `api/` from `api.zip`. */
export async function withExtras(src: PackageSource): Promise<PackageSource> {
  const files = new Map(src.files);
  const pkg = `${src.metadata.packageName}:${src.metadata.publisher}`;
  if (src.zip) files.set(`${pkg}.zip`, src.zip);
  const api = files.get('api.zip');
  if (api) {
    for (const [name, bytes] of await unzipBytes(api, `${src.label}: api.zip`)) files.set(`api/${name}`, bytes);
  }
  return { ...src, files };
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, bytes);
  await rename(`${path}.tmp`, path);
}
