// Writes kit-style package folders (metadata.json + pkg/manifest.json + pkg/*.wasm) around
// the built probe components, for tests and for components/build.mjs. Plain ESM, no deps.
//
//   import { makePackage } from '../../components/packages.mjs';
//   makePackage({ dir, packageName: 'probe', publisher: 'test.os', witVersion: 1,
//     processes: [{ name: 'probe', wasm: 'probe-v1', onExit: 'None', public: false,
//       requestCapabilities: ['http-server:distro:sys'], grantCapabilities: [],
//       requestNetworking: false }],
//     files: { 'child.wasm': 'probe-v1', 'notes.txt': 'hello' } });

import { constants, copyFileSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const COMPONENTS_DIR = dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = join(COMPONENTS_DIR, 'build');

/** Absolute path of a built component: 'probe-v0' | 'probe-v1' (or a path, returned resolved). */
export function wasmPath(wasm) {
  if (wasm === 'probe-v0' || wasm === 'probe-v1') {
    const p = join(BUILD_DIR, `${wasm}.wasm`);
    if (!existsSync(p)) throw new Error(`${p} is missing: run \`node components/build.mjs --if-missing\``);
    return p;
  }
  if (typeof wasm === 'string' && wasm.endsWith('.wasm')) return resolve(wasm);
  throw new Error(`unknown wasm ${JSON.stringify(wasm)} (use 'probe-v0', 'probe-v1' or a .wasm path)`);
}

/** Hard-links `from` to `to` (replacing `to`), copying when a link is impossible. */
export function linkOrCopy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** An independent copy (reflink where the filesystem can): fixtures may be edited by tests. */
export function copyInto(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  rmSync(to, { force: true });
  copyFileSync(from, to, constants.COPYFILE_FICLONE);
}

/**
 * processes: [{ name, wasm, onExit = 'None', requestCapabilities = [], grantCapabilities = [],
 *   public = false, requestNetworking = false }]
 * witVersion defaults to the generation of the first process's wasm (probe-v0 -> 0, else 1);
 * pass null to omit wit_version from metadata.json.
 * files: extra files under pkg/: { relPath: 'probe-v0' | 'probe-v1' | '<path>.wasm' | Uint8Array | string }
 * Returns the absolute folder path.
 */
export function makePackage({ dir, packageName, publisher, witVersion, processes, files = {}, version = '0.1.0' }) {
  if (!dir || !packageName || !publisher || !Array.isArray(processes)) {
    throw new Error('makePackage needs dir, packageName, publisher and processes');
  }
  const root = resolve(dir);
  const pkg = join(root, 'pkg');
  mkdirSync(pkg, { recursive: true });
  const wit = witVersion !== undefined ? witVersion : processes[0]?.wasm === 'probe-v0' ? 0 : 1;
  const properties = {
    package_name: packageName,
    publisher,
    current_version: version,
    mirrors: [],
    code_hashes: { [version]: '' },
    ...(wit === null ? {} : { wit_version: wit }),
    dependencies: [],
  };
  const metadata = { name: packageName, description: '', image: '', external_url: '', animation_url: '', properties };
  writeFileSync(join(root, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');

  const manifest = processes.map((p) => {
    copyInto(wasmPath(p.wasm), join(pkg, `${p.name}.wasm`));
    return {
      process_name: p.name,
      process_wasm_path: `/${p.name}.wasm`,
      on_exit: p.onExit ?? 'None',
      request_networking: p.requestNetworking === true,
      request_capabilities: p.requestCapabilities ?? [],
      grant_capabilities: p.grantCapabilities ?? [],
      public: p.public === true,
    };
  });
  writeFileSync(join(pkg, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

  for (const [rel, content] of Object.entries(files)) {
    if (isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) throw new Error(`bad file path ${rel}`);
    const to = join(pkg, rel);
    if (content instanceof Uint8Array) {
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, content);
    } else if (content === 'probe-v0' || content === 'probe-v1' || (typeof content === 'string' && content.endsWith('.wasm') && existsSync(content))) {
      copyInto(wasmPath(content), to);
    } else {
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, String(content));
    }
  }
  return root;
}
