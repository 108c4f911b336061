// Bench section "7. Storage: vfs": a process writes a file through vfs:distro:sys and reads it
// back (Write + blob, then Read -> blob, each awaited as process_lib's File::write / File::read
// do), against Node writing and reading the same bytes with `fs` directly
// (writeFileSync + readFileSync, the fastest direct form; vfs uses the same calls). Sizes 4 KiB
// and 1 MiB. The host node runs in this (otherwise idle) bench process; the loop runs inside
// the process (components/storage `vfsLoop`), so one figure is whole Write+Read pairs per
// second as the process sees them, including both messages and both blobs crossing threads.
// With `rustStore` (components/build/rust-store-v1.wasm) a Rust process does the same pairs with
// send-and-await-response (components/rust/src/store.rs, `store vfs <size> <n>`): the target rows.
// Beside each target row, its floor (bench/vfs-relay.ts): a bare worker relaying the same pairs
// through the main thread, timed in the same slices as the Rust row and its raw figure.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNode, type KinodeNode } from '../host/node.js';
import { built, hasBuilt, makePackage } from './common.js';
import { startVfsRelay, type VfsRelay } from './vfs-relay.js';
import type { Row, Target } from './report.js';

export interface StorageBenchContext {
  row(section: string, name: string, metric: string, better: 'higher' | 'lower', opts?: { target?: Target; chart?: string }): Row;
  rounds: number;
  work: string;
  log(s: string): void;
  settle(section: string, rows: Row[], e: unknown): void;
  checkBudget(): void;
  notes: string[];
  /** components/build/rust-store-v1.wasm when built (components/rust, feature `store`) */
  rustStore?: string;
}

const S = '7. Storage: vfs';
const SIZES: Array<[string, number]> = [
  ['4 KiB', 4096],
  ['1 MiB', 1 << 20],
];
/** each run is sized to take about this long */
const RUN_MS = 600;
/** a Rust-row run is cut into this many host / raw slices, alternating */
const RUST_SLICES = 4;
/**
 * Each side first runs pairs for this long, in slices of about WARM_SLICE_MS: the first ~1,500
 * pairs of a fresh node run while V8 is still optimizing the kernel's, vfs's and the worker's
 * JavaScript (this section's node is the first in the bench process; docs/performance.md §32),
 * at up to twice the steady state's cost per pair. The rows are steady-state rates, as the raw
 * side's are; the warm-up's first and last slices are logged.
 */
const WARM_MS = 2500;
const WARM_SLICE_MS = 250;

/** Run `pairs(n)` (ms taken) for WARM_MS in slices; µs per pair of the first and the last slice. */
async function warmUp(pairs: (n: number) => Promise<number> | number): Promise<{ pairs: number; firstUs: number; lastUs: number }> {
  let n = 20;
  let total = 0;
  let spent = 0;
  let firstUs = 0;
  let lastUs = 0;
  while (spent < WARM_MS) {
    const ms = await pairs(n);
    const us = (ms * 1000) / n;
    if (total === 0) firstUs = us;
    lastUs = us;
    total += n;
    spent += ms;
    n = Math.max(5, Math.min(20000, Math.round((WARM_SLICE_MS * 1000) / Math.max(us, 1))));
  }
  return { pairs: total, firstUs, lastUs };
}

interface LoopResult {
  ms: number;
  readBack: number;
}

export async function sectionStorageVfs(c: StorageBenchContext): Promise<void> {
  const rust = c.rustStore;
  // the target rows: a Rust process (what kit builds) doing process_lib's File::write / File::read,
  // each followed by its floor (a bare worker relaying the same pairs)
  const rustRows: Row[] = [];
  const relayRows: Row[] = [];
  for (const [label] of rust ? SIZES : []) {
    rustRows.push(
      c.row(S, `Write + Read of a ${label} file, Rust process → vfs vs fs direct`, 'pairs/s', 'higher', {
        chart: `vfs write+read ${label}, Rust`,
        target: { kind: 'ratio-min', value: 0.5 },
      }),
    );
    relayRows.push(c.row(S, `Write + Read of a ${label} file, bare worker relaying each pair through the main thread vs fs direct`, 'pairs/s', 'higher'));
  }
  const rows = SIZES.map(([label]) =>
    c.row(S, `Write + Read of a ${label} file, JS process (componentize-js) → vfs vs fs direct`, 'pairs/s', 'higher', { chart: `vfs write+read ${label}, JS` }),
  );
  if (!rust) c.notes.push(`${S}: the Rust storage client (components/build/rust-store-v1.wasm) is not built: JS process rows only, none with a target`);
  // the same through the in-host test driver: vfs and the kernel without a process's worker and
  // component runtime (what the JS component adds for big blobs shows as the difference)
  const driverRows = SIZES.map(([label]) => c.row(S, `Write + Read of a ${label} file, in-host driver → vfs vs fs direct`, 'pairs/s', 'higher'));
  let node: KinodeNode | undefined;
  let relay: VfsRelay | undefined;
  try {
    if (!hasBuilt('storage-v1')) throw new Error('components/build/storage-v1.wasm is missing: run `node components/build.mjs --if-missing`');
    const dir = await makePackage({
      dir: join(c.work, 'storage-bench'),
      packageName: 'storage-bench',
      publisher: 'bench.os',
      witVersion: 1,
      processes: [{ name: 'app', wasm: built('storage-v1'), requestCapabilities: ['vfs:distro:sys'] }],
    });
    const mods = ['vfs:distro:sys', 'kv:distro:sys', 'sqlite:distro:sys'];
    const rustDir = rust
      ? await makePackage({
          dir: join(c.work, 'storage-bench-rust'),
          packageName: 'storage-bench-rs',
          publisher: 'bench.os',
          witVersion: null,
          processes: [{ name: 'rs', wasm: rust, requestCapabilities: mods, grantCapabilities: mods }],
        })
      : undefined;
    // the JS process keeps every blob it sends: componentize-js frees what it allocates for an
    // import call's arguments only when the export call returns, and a process's init never
    // returns (README, Limits). At the default 512 MiB it ended after ~450 Writes of 1 MiB, in the
    // middle of the 1 MiB rows; 3 GiB leaves it room for the whole section
    node = await startNode({
      home: join(c.work, 'storage-home'),
      port: 0,
      packages: [dir, ...(rustDir ? [rustDir] : [])],
      print: () => {},
      driver: true,
      maxProcessMemoryBytes: 3 * 2 ** 30,
    });
    const app = `${node.nodeName}@app:storage-bench:bench.os`;
    await node.waitForPrint(/storage ready/, 60000);
    const RS = `${node.nodeName}@rs:storage-bench-rs:bench.os`;
    /** `store <args>` to the Rust process; its report comes back as a request to the driver */
    const rustStore = async (args: string, timeoutS: number): Promise<string> => {
      const d = node!.driver();
      const earlier = new Set(d.received);
      await d.request(RS, `store ${args}`);
      return (await d.waitFor((m) => !earlier.has(m) && m.source === RS && m.text.startsWith('store '), timeoutS * 1000)).text;
    };
    if (rust) {
      relay = await startVfsRelay();
      await node.waitForPrint(/rust echo ready .*@rs:storage-bench-rs:/, 60000);
      const setup = await rustStore('setup', 30);
      if (setup !== 'store setup ok') throw new Error(`the Rust store process: ${setup}`);
    }
    /**
     * The Rust process's await counters (kernel.awaitStatsOf): how many of its awaits were
     * answered while it spun, how many parked, and the kernel's polls for its next send — whether
     * the serial-await spin (docs/performance.md §17, §24) ran in this minute at all.
     */
    const RS_PID = `rs:storage-bench-rs:bench.os`;
    const awaitStats = () => node!.kernel.awaitStatsOf(RS_PID) ?? { spun: 0, parked: 0, pollHits: 0, pollMisses: 0, pollsDeclined: 0 };
    const awaitsBySize = new Map<number, { spun: number; parked: number; pollHits: number; pollMisses: number; pollsDeclined: number }>();
    /** n Write+Read pairs in the Rust process: ms from the command to its report */
    const rustLoop = async (size: number, n: number): Promise<number> => {
      const t0 = performance.now();
      const before = awaitStats();
      const report = await rustStore(`vfs ${size} ${n}`, 600);
      const ms = performance.now() - t0;
      const after = awaitStats();
      const sum = awaitsBySize.get(size) ?? { spun: 0, parked: 0, pollHits: 0, pollMisses: 0, pollsDeclined: 0 };
      for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += after[k] - before[k];
      awaitsBySize.set(size, sum);
      if (report !== `store done vfs ${n} 0 ${size * n}`) throw new Error(`the Rust store process: ${report} (expected ${n} pairs, no errors, ${size * n} bytes read back)`);
      return ms;
    };
    const loop = async (path: string, size: number, n: number): Promise<LoopResult> => {
      const r = await node!.driver().request(app, { op: 'vfsLoop', path, size, n }, { expects: 600 });
      const j = r.json<{ ok?: LoopResult; err?: string }>();
      if (!j.ok) throw new Error(`vfsLoop failed: ${r.text}`);
      if (j.ok.readBack !== size * n) throw new Error(`vfsLoop read back ${j.ok.readBack} bytes, expected ${size * n}`);
      return j.ok;
    };
    const rawDir = join(c.work, 'storage-raw');
    mkdirSync(rawDir, { recursive: true });
    const direct = (file: string, bytes: Uint8Array, n: number): number => {
      const t0 = performance.now();
      let back = 0;
      for (let i = 0; i < n; i++) {
        writeFileSync(file, bytes);
        back += readFileSync(file).length;
      }
      if (back !== bytes.length * n) throw new Error('direct read back a different length');
      return performance.now() - t0;
    };

    const VFS_ADDR = `${node.nodeName}@vfs:distro:sys`;
    const driverVfs = async (action: unknown, path: string, bytes?: Uint8Array): Promise<Uint8Array | undefined> => {
      const r = await node!.driver().request(VFS_ADDR, { path, action }, { expects: 60, ...(bytes ? { blob: { bytes } } : {}) });
      if (r.text !== '"Ok"' && r.text !== '"Read"') throw new Error(`vfs answered ${r.text}`);
      return r.blob?.bytes;
    };
    await driverVfs('CreateDrive', '/kinode-host:sys/bench');
    const driverLoop = async (path: string, bytes: Uint8Array, n: number): Promise<number> => {
      const t0 = performance.now();
      for (let k = 0; k < n; k++) {
        await driverVfs('Write', path, bytes);
        const back = await driverVfs('Read', path);
        if (back?.length !== bytes.length) throw new Error('driver read back a different length');
      }
      return performance.now() - t0;
    };

    for (const [i, [label, size]] of SIZES.entries()) {
      const r = rows[i]!;
      const dr = driverRows[i]!;
      const rr = rustRows[i];
      const fr = relayRows[i];
      const relayFile = join(rawDir, `relay-${size}.bin`);
      const path = `/storage-bench:bench.os/tmp/bench-${size}.bin`;
      const file = join(rawDir, `bench-${size}.bin`);
      const bytes = new Uint8Array(size).map((_, k) => k & 255);
      // warm each side up (WARM_MS), then size its runs from the warm-up's last slice
      const warmed: string[] = [];
      const sized = async (side: string, pairs: (n: number) => Promise<number> | number, max: number): Promise<number> => {
        const w = await warmUp(pairs);
        warmed.push(`${side} ${w.firstUs.toFixed(0)} → ${w.lastUs.toFixed(0)} µs/pair over ${w.pairs}`);
        return Math.max(20, Math.min(max, Math.round((RUN_MS * 1000) / Math.max(w.lastUs, 1))));
      };
      const hostN = await sized('JS process', async (n) => (await loop(path, size, n)).ms, 20000);
      const rawN = await sized('raw', (n) => direct(file, bytes, n), 200000);
      const rustN = rr ? await sized('Rust process', (n) => rustLoop(size, n), 200000) : 0;
      if (rr) await sized('relay', (n) => relay!.pairs(relayFile, size, n), 200000);
      await sized('driver', (n) => driverLoop(`/kinode-host:sys/bench/bench-${size}.bin`, bytes, n), 200000);
      c.log(`${S}: ${label}: warm-up (first → last slice): ${warmed.join('; ')}`);
      awaitsBySize.delete(size); // the counters below are the timed runs'
      for (let round = 0; round < c.rounds; round++) {
        c.checkBudget();
        const host = async (): Promise<void> => {
          const res = await loop(path, size, hostN);
          r.host.push((hostN * 1000) / Math.max(res.ms, 1));
        };
        const raw = async (): Promise<void> => {
          r.raw.push((rawN * 1000) / direct(file, bytes, rawN));
        };
        const viaDriver = async (): Promise<void> => {
          dr.host.push((rawN * 1000) / (await driverLoop(`/kinode-host:sys/bench/bench-${size}.bin`, bytes, rawN)));
          dr.raw.push((rawN * 1000) / direct(file, bytes, rawN));
        };
        // the Rust row's raw figure is taken in the same slices of time: RUST_SLICES short host and
        // raw runs alternating (the shared disk's speed swings within seconds), summed per side
        const viaRust = async (): Promise<void> => {
          if (!rr) return;
          const per = Math.max(5, Math.round(rustN / RUST_SLICES));
          let hostMs = 0;
          let rawMs = 0;
          let relayMs = 0;
          for (let k = 0; k < RUST_SLICES; k++) {
            if ((round + k) % 2 === 0) {
              hostMs += await rustLoop(size, per);
              rawMs += direct(file, bytes, per);
              relayMs += await relay!.pairs(relayFile, size, per);
            } else {
              relayMs += await relay!.pairs(relayFile, size, per);
              rawMs += direct(file, bytes, per);
              hostMs += await rustLoop(size, per);
            }
          }
          rr.host.push((per * RUST_SLICES * 1000) / hostMs);
          rr.raw.push((per * RUST_SLICES * 1000) / rawMs);
          fr!.host.push((per * RUST_SLICES * 1000) / relayMs);
          fr!.raw.push((per * RUST_SLICES * 1000) / rawMs);
        };
        if (round % 2 === 0) {
          await viaRust();
          await host();
          await raw();
          await viaDriver();
        } else {
          await viaDriver();
          await raw();
          await host();
          await viaRust();
        }
      }
      c.log(`${S}: ${label}: host ${r.host.map((x) => x.toFixed(0)).join(', ')} pairs/s; raw ${r.raw.map((x) => x.toFixed(0)).join(', ')} pairs/s`);
      if (rr) c.log(`${S}: ${label}: Rust ${rr.host.map((x) => x.toFixed(0)).join(', ')} pairs/s; raw ${rr.raw.map((x) => x.toFixed(0)).join(', ')} pairs/s (${rustN} pairs per run)`);
      if (fr) c.log(`${S}: ${label}: bare worker relay ${fr.host.map((x) => x.toFixed(0)).join(', ')} pairs/s`);
      const aw = awaitsBySize.get(size);
      if (rr && aw) {
        const text = `${label}: the Rust process's awaits ${aw.spun} answered while spinning, ${aw.parked} parked; the kernel's polls for its next send ${aw.pollHits} caught, ${aw.pollMisses} ran out, ${aw.pollsDeclined} not started (no spare core or backing off)`;
        c.log(`${S}: ${text}`);
        c.notes.push(`${S}: ${text}.`);
      }
      c.log(`${S}: ${label}: driver ${dr.host.map((x) => x.toFixed(0)).join(', ')} pairs/s; raw ${dr.raw.map((x) => x.toFixed(0)).join(', ')} pairs/s`);
    }
    c.notes.push(
      `${S}: one pair = a Write with the bytes as blob and a Read returning them, each awaited by the process (send-and-await-response), ` +
        'the files under the node home; raw = writeFileSync + readFileSync of the same bytes in Node. The host node runs in the bench process. ' +
        'The driver rows send the same two requests from the in-host test driver (no worker, no component): the gap between the two host rows ' +
        'is what the JS component (componentize-js) and the worker hop cost for the blobs. Disk times on this shared machine vary by 2-3x between runs.',
    );
    if (rust)
      c.notes.push(
        `${S}: the target rows: a Rust process (components/rust, feature \`store\`) doing each pair as process_lib's File::write / File::read do ` +
          '(send-and-await-response for the Write with the bytes as blob, then for the Read, the bytes taken with get-blob); every Read checked (length; the content once per run). ' +
          'Timed by the test driver from its `store vfs <size> <n>` command to the process\'s report; each Rust run is cut into 4 slices alternating with 4 raw slices (the shared disk\'s speed swings within seconds), summed per side.',
      );
    if (rust)
      c.notes.push(
        `${S}: the "bare worker relaying" rows are the floor of the Rust rows (bench/vfs-relay.ts): a plain worker thread whose bytes sit in a WebAssembly.Memory ` +
          'lifts them out (a fresh buffer, as jco\'s glue), posts them to the main thread (transferred), parks until the main thread has done writeFileSync and woken it, ' +
          'asks for the file back the same way (readFileSync, transferred back) and lowers it into its memory: no kernel, codec or component. ' +
          'Its slices run beside the Rust row\'s, so its raw column is the Rust row\'s raw column.',
      );
    rmSync(rawDir, { recursive: true, force: true });
  } catch (e) {
    c.settle(S, [...rustRows, ...relayRows, ...rows, ...driverRows], e);
  } finally {
    await relay?.stop();
    await node?.stop();
  }
}
