#!/usr/bin/env node
// Builds the Rust "echo" process (components/rust/src/lib.rs) for process-v0 and process-v1:
// cargo (Debian's rustc-web 1.96, -Zbuild-std, wasm32-wasip1 cdylib) -> core module,
// then jco-transpile's wasm-tools: component embed (world process-vN) + component new with the
// WASI preview1 reactor adapter. The same crate with feature `poll` (a `sleep <ms>` command) is
// built as rust-poll-vN, whose imports include wasi:io/poll, and with feature `store` (kv / sqlite /
// vfs client commands, src/store.rs) as rust-store-vN. Outputs:
//   components/build/cache/rust-{echo,poll,store}-vN-<hash>.wasm   (hash of sources, WIT, toolchain, adapter)
//   components/build/rust-{echo,poll,store}-vN.wasm                (link to the current build)
//   components/build/rust-target/                     (cargo target dir)
//
//   node components/rust/build.mjs               rebuild both
//   node components/rust/build.mjs --if-missing  build only what is not cached
//
// Exits 0 with one line when the toolchain is missing (apt-get install rustc-web cargo-web
// rust-web-src rust-web-llvm lld-22 wasi-libc). Overrides: RUST_ECHO_CARGO, RUST_ECHO_RUSTC,
// RUST_ECHO_WASI_LIBC (dir with libc.a), RUST_ECHO_ADAPTER (wasi_snapshot_preview1.reactor.wasm).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const COMPONENTS = dirname(HERE);
const ROOT = dirname(COMPONENTS);
const BUILD = join(COMPONENTS, 'build');
const CACHE = join(BUILD, 'cache');
const TARGET_DIR = join(BUILD, 'rust-target');

const CARGO = process.env.RUST_ECHO_CARGO ?? '/usr/bin/cargo';
const RUSTC = process.env.RUST_ECHO_RUSTC ?? '/usr/bin/rustc';
const WASI_LIBC = process.env.RUST_ECHO_WASI_LIBC ?? '/usr/lib/wasm32-wasi';

const TARGETS = [
  { name: 'rust-echo-v0', world: 'process-v0', iface: 'kinode:process/standard@0.8.0', wit: join(ROOT, 'wit', 'v0', 'process.wit'), features: [] },
  { name: 'rust-echo-v1', world: 'process-v1', iface: 'kinode:process/standard@1.0.0', wit: join(ROOT, 'wit', 'v1', 'process.wit'), features: ['v1'] },
  // the echo plus `sleep <ms>`, whose poll_oneoff makes the adapter import wasi:io/poll
  { name: 'rust-poll-v0', world: 'process-v0', iface: 'kinode:process/standard@0.8.0', wit: join(ROOT, 'wit', 'v0', 'process.wit'), features: ['poll'] },
  { name: 'rust-poll-v1', world: 'process-v1', iface: 'kinode:process/standard@1.0.0', wit: join(ROOT, 'wit', 'v1', 'process.wit'), features: ['v1', 'poll'] },
  // the echo plus `store …` commands (src/store.rs): kv / sqlite / vfs as process_lib sends them
  { name: 'rust-store-v0', world: 'process-v0', iface: 'kinode:process/standard@0.8.0', wit: join(ROOT, 'wit', 'v0', 'process.wit'), features: ['store'] },
  { name: 'rust-store-v1', world: 'process-v1', iface: 'kinode:process/standard@1.0.0', wit: join(ROOT, 'wit', 'v1', 'process.wit'), features: ['v1', 'store'] },
];

function skip(why) {
  console.log(`rust-echo: skipped, Rust web toolchain not usable (${why})`);
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function findAdapter() {
  const candidates = [
    process.env.RUST_ECHO_ADAPTER,
    join(ROOT, 'node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.reactor.wasm'),
    join(ROOT, 'node_modules/@bytecodealliance/componentize-js/node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.reactor.wasm'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

function toolchain() {
  if (!existsSync(CARGO) || !existsSync(RUSTC)) skip(`${CARGO} / ${RUSTC} not found`);
  let version, sysroot;
  try {
    version = run(RUSTC, ['--version']).trim();
    sysroot = run(RUSTC, ['--print', 'sysroot']).trim();
  } catch (e) {
    skip(`${RUSTC} failed: ${String(e.message).split('\n')[0]}`);
  }
  const library = join(sysroot, 'lib/rustlib/src/rust/library');
  if (!existsSync(join(library, 'Cargo.lock'))) skip(`no rust-src at ${library} (rust-web-src)`);
  const vendor = join(library, 'vendor');
  if (!existsSync(vendor)) skip(`no vendored std dependencies at ${vendor}`);
  if (!existsSync(join(WASI_LIBC, 'libc.a'))) skip(`no ${WASI_LIBC}/libc.a (wasi-libc)`);
  const lld = join(dirname(RUSTC), 'rust-lld');
  if (!existsSync(lld)) skip(`no ${lld} (rust-web-llvm + lld-22)`); // existsSync follows the link
  const adapter = findAdapter();
  if (!adapter) skip('wasi_snapshot_preview1.reactor.wasm not found in node_modules/@bytecodealliance/jco');
  return { version, vendor, adapter };
}

function inputsHash(t, tc, adapterBytes) {
  const h = createHash('sha256');
  const files = ['Cargo.toml', 'build.mjs', ...readdirSync(join(HERE, 'src')).sort().map((f) => join('src', f))];
  for (const f of files) h.update(`${f}\n`).update(readFileSync(join(HERE, f)));
  h.update(readFileSync(t.wit)).update(t.world).update(tc.version);
  h.update(createHash('sha256').update(adapterBytes).digest('hex'));
  return h.digest('hex').slice(0, 16);
}

function linkOrCopy(from, to) {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function cargoBuild(t, tc) {
  const env = {
    ...process.env,
    // keep rustup's proxies (~/.cargo/bin) out: they point at a toolchain without wasm targets
    PATH: [dirname(RUSTC), dirname(CARGO), '/usr/bin', '/bin'].join(':'),
    RUSTC,
    RUSTC_BOOTSTRAP: '1',
    RUSTFLAGS: `-L native=${WASI_LIBC}`,
  };
  delete env.RUSTUP_TOOLCHAIN;
  delete env.CARGO_BUILD_TARGET;
  const args = [
    'build', '--release', '--quiet', '--target', 'wasm32-wasip1',
    '-Zbuild-std=std,panic_abort',
    '-Zbuild-std-features=optimize_for_size',
    '--target-dir', TARGET_DIR,
    // per-generation copy of the result: another build.mjs (npm test and npm run bench at once)
    // may rebuild the other feature into the shared target dir before we read ours
    '-Zunstable-options', '--artifact-dir', join(TARGET_DIR, 'out', t.name),
    '--config', 'source.crates-io.replace-with="vendored-std"',
    '--config', `source.vendored-std.directory=${JSON.stringify(tc.vendor)}`,
  ];
  if (t.features.length) args.push('--features', t.features.join(','));
  try {
    execFileSync(CARGO, args, { cwd: HERE, env, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    console.error(`rust-echo: cargo failed for ${t.name}`);
    process.exit(1);
  }
  const core = readFileSync(join(TARGET_DIR, 'out', t.name, 'rust_echo.wasm'));
  checkCore(t, core);
  return core;
}

/** The core module must import exactly this generation's interface and not be export-wrapped. */
function checkCore(t, core) {
  const mod = new WebAssembly.Module(core);
  const modules = new Set(WebAssembly.Module.imports(mod).map((i) => i.module));
  const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
  const problems = [];
  if (!modules.has(t.iface)) problems.push(`does not import ${t.iface}`);
  for (const m of modules) if (m !== t.iface && m !== 'wasi_snapshot_preview1') problems.push(`imports ${m}`);
  for (const e of ['memory', 'cabi_realloc', 'init']) if (!exports.includes(e)) problems.push(`does not export ${e}`);
  if (problems.length) {
    console.error(`rust-echo: bad core module for ${t.name}: ${problems.join('; ')}`);
    process.exit(1);
  }
}

async function main() {
  const ifMissing = process.argv.includes('--if-missing');
  const tc = toolchain();
  const adapterBytes = readFileSync(tc.adapter);
  mkdirSync(CACHE, { recursive: true });
  const todo = [];
  for (const t of TARGETS) {
    const cached = join(CACHE, `${t.name}-${inputsHash(t, tc, adapterBytes)}.wasm`);
    if (ifMissing && existsSync(cached)) {
      linkOrCopy(cached, join(BUILD, `${t.name}.wasm`));
    } else {
      todo.push({ t, cached });
    }
  }
  if (!todo.length) {
    console.log('rust-echo: up to date');
    return;
  }
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  for (const { t, cached } of todo) {
    const started = Date.now();
    const core = cargoBuild(t, tc);
    const embedded = await componentEmbed({ binary: core, witSource: readFileSync(t.wit, 'utf8'), world: t.world });
    const component = await componentNew(embedded, [['wasi_snapshot_preview1', adapterBytes]]);
    const tmp = `${cached}.tmp-${process.pid}`;
    writeFileSync(tmp, component);
    renameSync(tmp, cached);
    linkOrCopy(cached, join(BUILD, `${t.name}.wasm`));
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`rust-echo: built ${t.name} in ${secs} s (core ${core.length} B, component ${component.length} B)`);
  }
}

await main();
