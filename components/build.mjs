#!/usr/bin/env node
// Builds the probe component (components/probe/probe.js) for process-v0 and process-v1 with
// componentize-js, caches the results under components/build/cache/ by a hash of their
// inputs, and lays out: components/build/probe-v{0,1}.wasm, components/build/manifest.json,
// components/build/packages/probe-v{0,1}/ and components/demo/pkg/demo.wasm.
//
//   node components/build.mjs               rebuild both components
//   node components/build.mjs --if-missing  build only what is not in the cache
//   node components/build.mjs --only storage-v1  just these targets (comma-separated; npm start)

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_DIR, COMPONENTS_DIR, linkOrCopy, makePackage } from './packages.mjs';

const ROOT = dirname(COMPONENTS_DIR);
const SOURCE = join(COMPONENTS_DIR, 'probe', 'probe.js');
const CLIENTS_SOURCE = join(COMPONENTS_DIR, 'clients', 'clients.js');
const CACHE_DIR = join(BUILD_DIR, 'cache');
const SRC_DIR = join(BUILD_DIR, 'src');
const MANIFEST = join(BUILD_DIR, 'manifest.json');
// 'stdio' stays enabled: an uncaught error's message reaches stderr through WASI
const OPTIONS = { disableFeatures: ['http', 'fetch-event'] };

const TARGETS = [
  { name: 'probe-v0', generation: 0, world: 'process-v0', wit: join(ROOT, 'wit', 'v0'), specifier: 'kinode:process/standard@0.8.0' },
  { name: 'probe-v1', generation: 1, world: 'process-v1', wit: join(ROOT, 'wit', 'v1'), specifier: 'kinode:process/standard@1.0.0' },
  // http-client's book-like clients (components/clients/clients.js)
  { name: 'clients-v0', source: CLIENTS_SOURCE, generation: 0, world: 'process-v0', wit: join(ROOT, 'wit', 'v0'), specifier: 'kinode:process/standard@0.8.0' },
  { name: 'clients-v1', source: CLIENTS_SOURCE, generation: 1, world: 'process-v1', wit: join(ROOT, 'wit', 'v1'), specifier: 'kinode:process/standard@1.0.0' },
  // http-server's book-like servers (components/servers/servers.js)
  { name: 'servers-v0', source: join(COMPONENTS_DIR, 'servers', 'servers.js'), generation: 0, world: 'process-v0', wit: join(ROOT, 'wit', 'v0'), specifier: 'kinode:process/standard@0.8.0' },
  { name: 'servers-v1', source: join(COMPONENTS_DIR, 'servers', 'servers.js'), generation: 1, world: 'process-v1', wit: join(ROOT, 'wit', 'v1'), specifier: 'kinode:process/standard@1.0.0' },
  // a process_lib-like storage app: vfs, logging, serve_ui, kv, sqlite (components/storage/storage.js)
  { name: 'storage-v0', source: join(COMPONENTS_DIR, 'storage', 'storage.js'), generation: 0, world: 'process-v0', wit: join(ROOT, 'wit', 'v0'), specifier: 'kinode:process/standard@0.8.0' },
  { name: 'storage-v1', source: join(COMPONENTS_DIR, 'storage', 'storage.js'), generation: 1, world: 'process-v1', wit: join(ROOT, 'wit', 'v1'), specifier: 'kinode:process/standard@1.0.0' },
  // a test for the runtime's tester (components/tester-case/tester-case.js)
  { name: 'tester-case-v0', source: join(COMPONENTS_DIR, 'tester-case', 'tester-case.js'), generation: 0, world: 'process-v0', wit: join(ROOT, 'wit', 'v0'), specifier: 'kinode:process/standard@0.8.0' },
  { name: 'tester-case-v1', source: join(COMPONENTS_DIR, 'tester-case', 'tester-case.js'), generation: 1, world: 'process-v1', wit: join(ROOT, 'wit', 'v1'), specifier: 'kinode:process/standard@1.0.0' },
];

const CJS_PKG = fileURLToPath(new URL('../package.json', import.meta.resolve('@bytecodealliance/componentize-js')));
const cjsVersion = JSON.parse(readFileSync(CJS_PKG, 'utf8')).version;

function witText(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wit'))
    .sort()
    .map((f) => `${f}\n${readFileSync(join(dir, f), 'utf8')}`)
    .join('\n');
}

function replaceOnce(text, from, to) {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`probe.js must contain ${JSON.stringify(from)} exactly once`);
  return parts.join(to);
}

function sourceFor(t) {
  let s = readFileSync(t.source ?? SOURCE, 'utf8');
  s = replaceOnce(s, "'kinode:process/standard@1.0.0'", `'${t.specifier}'`);
  s = replaceOnce(s, '/*@GENERATION*/1', `/*@GENERATION*/${t.generation}`);
  return s;
}

async function build(t, source, out) {
  // componentize-js reads the WIT through preview2-shim, which has no default preopens
  const { _addPreopen } = await import('@bytecodealliance/preview2-shim/filesystem');
  _addPreopen('/', '/');
  const { componentize } = await import('@bytecodealliance/componentize-js');
  mkdirSync(SRC_DIR, { recursive: true });
  const sourcePath = join(SRC_DIR, `${t.name}.js`);
  writeFileSync(sourcePath, source);
  const started = Date.now();
  const { component } = await componentize({ sourcePath, witPath: t.wit, worldName: t.world, ...OPTIONS });
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, component);
  renameSync(tmp, out);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`components: built ${t.name} in ${secs} s (${(component.length / 1e6).toFixed(1)} MB)`);
}

async function main() {
  const ifMissing = process.argv.includes('--if-missing');
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(String(process.argv[onlyAt + 1] ?? '').split(',')) : undefined;
  mkdirSync(CACHE_DIR, { recursive: true });
  const manifest = existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : {};

  for (const t of TARGETS) {
    if (only && !only.has(t.name)) continue;
    const source = sourceFor(t);
    const hash = createHash('sha256')
      .update(JSON.stringify([source, witText(t.wit), t.world, cjsVersion, OPTIONS]))
      .digest('hex')
      .slice(0, 16);
    const file = `${t.name}-${hash}.wasm`;
    const out = join(CACHE_DIR, file);
    // a cached build is trusted only if it still looks like one (guards against a clobbered file)
    if (ifMissing && existsSync(out) && statSync(out).size > 1024 * 1024) {
      console.log(`components: ${t.name} is up to date`);
    } else {
      console.log(`components: building ${t.name} with componentize-js (about 10-60 s, cached afterwards)...`);
      await build(t, source, out);
    }
    for (const old of readdirSync(CACHE_DIR)) {
      if (old.startsWith(`${t.name}-`) && old !== file) rmSync(join(CACHE_DIR, old), { force: true });
    }
    linkOrCopy(out, join(BUILD_DIR, `${t.name}.wasm`));
    manifest[t.name] = `cache/${file}`;
  }
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');

  // ready-made packages (fixtures and manual runs)
  const packages = join(BUILD_DIR, 'packages');
  for (const [gen, http] of [[0, 'http_server:distro:sys'], [1, 'http-server:distro:sys']]) {
    if (!manifest[`probe-v${gen}`] || !existsSync(join(BUILD_DIR, manifest[`probe-v${gen}`]))) continue; // not built (--only)
    const dir = join(packages, `probe-v${gen}`);
    rmSync(dir, { recursive: true, force: true });
    makePackage({
      dir,
      packageName: `probe-v${gen}`,
      publisher: 'kinode-host.os',
      witVersion: gen,
      processes: [{ name: 'probe', wasm: `probe-v${gen}`, onExit: 'None', requestCapabilities: [http], grantCapabilities: [http], public: false }],
    });
  }
  // the bundled demo package (metadata.json and pkg/manifest.json are committed)
  linkOrCopy(join(BUILD_DIR, 'storage-v1.wasm'), join(COMPONENTS_DIR, 'demo', 'pkg', 'demo.wasm'));
}

main().catch((e) => {
  console.error(`components: build failed: ${e?.stack ?? e}`);
  process.exit(1);
});
