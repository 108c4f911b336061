// Big vfs blobs through real processes, both generations: the buffers of big blobs go round
// between a process's worker and the kernel instead of being fresh each time (process/
// blob-pool.ts, kernel/blob-handover.ts giveBack / takeSpare, docs/performance.md §28). What a
// process observes must not change: every Read returns exactly the file's bytes, whatever buffer
// they were read into; a blob the process still holds (get-blob, v1 last-blob, inherit) is never
// the buffer a later send lifts into; another process's Write never shows in a Read.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, cmd, makePackage } from './helpers.js';

const VFS = 'vfs:distro:sys';
const MiB = 1 << 20;

after(() => cleanupTempDirs());

/**
 * `size` ASCII bytes that differ with `seed` at every position a buffer could keep from an
 * earlier round (ASCII: the probe takes a blob as text at once, base64 only slowly).
 */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 97 + ((i * 7 + seed * 31 + (i >>> 12)) % 26);
  return b;
}

interface Awaited {
  ok?: { body: string; blob: { b64: string } | null };
  err?: unknown;
}

/** One vfs request from probe `who`, awaited (the probe's `await` op: send-and-await-response, then get-blob). */
async function vfs(
  node: KinodeNode,
  who: string,
  path: string,
  action: string,
  opts: { blob?: Uint8Array; inherit?: boolean } = {},
): Promise<{ body: string; blob: Buffer | undefined }> {
  const r = await cmd<Awaited>(
    node,
    who,
    {
      op: 'await',
      target: `our@${VFS}`,
      body: { path, action },
      expects: 30,
      ...(opts.blob ? { blob: { text: Buffer.from(opts.blob).toString('latin1') } } : {}),
      ...(opts.inherit ? { inherit: true } : {}),
    },
    60,
  );
  if (!r.ok) throw new Error(`vfs ${action} ${path}: ${JSON.stringify(r.err)}`);
  return { body: r.ok.body, blob: r.ok.blob ? Buffer.from(r.ok.blob.b64, 'base64') : undefined };
}

/** Equal bytes, without printing megabytes on failure. */
function same(got: Uint8Array | undefined, want: Uint8Array, what: string): void {
  assert.ok(got !== undefined, `${what}: a blob`);
  assert.equal(got.length, want.length, `${what}: length`);
  const at = got.findIndex((b, i) => b !== want[i]);
  assert.equal(at, -1, `${what}: first differing byte at ${at}`);
}

for (const gen of [0, 1] as const) {
  describe(`big vfs blobs through a process (v${gen})`, () => {
    const probe = gen === 0 ? 'probe-v0' : 'probe-v1';
    const pkg = `blobs${gen}`;
    const drive = `/${pkg}:test.os/data`;

    async function boot(): Promise<{ node: KinodeNode; a: string; b: string; dir: string }> {
      const dir = await makePackage({
        packageName: pkg,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          { name: 'a', wasm: probe, requestCapabilities: [VFS] },
          { name: 'b', wasm: probe, requestCapabilities: [VFS] },
        ],
      });
      const node = await bootNode({ packages: [dir] });
      const a = `fake.dev@a:${pkg}:test.os`;
      const b = `fake.dev@b:${pkg}:test.os`;
      for (const p of [a, b]) {
        await node.waitForPrint(new RegExp(`probe ready ${p.replace(/\./g, '\\.')}`), 60000);
        assert.equal((await vfs(node, p, drive, 'CreateDrive')).body, '"Ok"');
      }
      return { node, a, b, dir: join(node.opts.home, 'vfs', `${pkg}:test.os`, 'data') };
    }

    // 1 MiB: the probe's base64 of what it reads takes ~2 s per MiB and does not finish for 3 MiB
    // (so on main too); 3 MiB goes through the Rust process below
    it('1 MiB files, new bytes each round, written and read back byte-exact', async () => {
      const { node, a, dir } = await boot();
      try {
        for (const size of [MiB]) {
          for (let round = 0; round < 4; round++) {
            const bytes = pattern(size, round + size);
            const path = `${drive}/f-${size}.bin`;
            assert.equal((await vfs(node, a, path, 'Write', { blob: bytes })).body, '"Ok"');
            same(readFileSync(join(dir, `f-${size}.bin`)), bytes, `file after Write ${size}/${round}`);
            const back = await vfs(node, a, path, 'Read');
            assert.equal(back.body, '"Read"');
            same(back.blob, bytes, `Read ${size}/${round}`);
          }
        }
      } finally {
        await node.stop();
      }
    });

    it('a blob the process still holds is not changed by its later sends; inherit sends it as read', async () => {
      const { node, a, dir } = await boot();
      try {
        const held = pattern(MiB, 1);
        writeFileSync(join(dir, 'held.bin'), held);
        // a few pairs first, so that the worker has spare buffers of this size
        for (let round = 0; round < 3; round++) {
          await vfs(node, a, `${drive}/warm.bin`, 'Write', { blob: pattern(MiB, 10 + round) });
          same((await vfs(node, a, `${drive}/warm.bin`, 'Read')).blob, pattern(MiB, 10 + round), `warm-up ${round}`);
        }
        same((await vfs(node, a, `${drive}/held.bin`, 'Read')).blob, held, 'Read of held.bin');
        if (gen === 1) {
          // v1 keeps the last blob across messages without one (a v0 process drops it at the
          // next message): the lifts of same-size Writes must not go into its buffer
          for (let round = 0; round < 3; round++) {
            await vfs(node, a, `${drive}/other.bin`, 'Write', { blob: pattern(MiB, 20 + round) });
          }
          const last = await cmd<{ b64: string } | null>(node, a, { op: 'lastBlob' }, 60);
          same(last ? Buffer.from(last.b64, 'base64') : undefined, held, 'last-blob after three Writes');
          // inherit: the Write carries the blob the process holds
          assert.equal((await vfs(node, a, `${drive}/copy.bin`, 'Write', { inherit: true })).body, '"Ok"');
          same(readFileSync(join(dir, 'copy.bin')), held, 'copy.bin written with the inherited blob');
        }
        // and the pairs go on with their own bytes
        await vfs(node, a, `${drive}/warm.bin`, 'Write', { blob: pattern(MiB, 30) });
        same((await vfs(node, a, `${drive}/warm.bin`, 'Read')).blob, pattern(MiB, 30), 'a pair after the inherit');
        same((await vfs(node, a, `${drive}/held.bin`, 'Read')).blob, held, 'held.bin read again');
      } finally {
        await node.stop();
      }
    });

    it('a Read by one process gets its own file, not the bytes of another process’s Write of the same size', async () => {
      const { node, a, b, dir } = await boot();
      try {
        const mine = pattern(MiB, 40);
        writeFileSync(join(dir, 'b.bin'), mine);
        for (let round = 0; round < 2; round++) {
          const theirs = pattern(MiB, 50 + round);
          assert.equal((await vfs(node, a, `${drive}/a.bin`, 'Write', { blob: theirs })).body, '"Ok"');
          same((await vfs(node, b, `${drive}/b.bin`, 'Read')).blob, mine, `b reads b.bin after a wrote a.bin (${round})`);
          same((await vfs(node, a, `${drive}/a.bin`, 'Read')).blob, theirs, `a reads a.bin (${round})`);
        }
        // a file shorter or longer than the spare buffers: read whole all the same
        for (const size of [MiB - 1, 40 * 1024]) {
          const bytes = pattern(size, size);
          writeFileSync(join(dir, 'odd.bin'), bytes);
          same((await vfs(node, b, `${drive}/odd.bin`, 'Read')).blob, bytes, `odd size ${size}`);
        }
      } finally {
        await node.stop();
      }
    });
  });
}

// the same through a kit-style Rust process (what the bench measures): process_lib's
// File::write + File::read of 1 MiB and 3 MiB, the process checking what it reads back
const rustStore = (gen: 0 | 1): string => fileURLToPath(new URL(`../../components/build/rust-store-v${gen}.wasm`, import.meta.url));
for (const gen of [0, 1] as const) {
  const wasm = rustStore(gen);
  describe(`big vfs blobs through a Rust process (v${gen})`, { skip: existsSync(wasm) ? false : `${wasm} not built` }, () => {
    it('Write + Read pairs of 1 MiB and 3 MiB: the process reads back what it wrote; the file holds it', async () => {
      const pkg = `rblobs${gen}`;
      const mods = ['kv:distro:sys', 'sqlite:distro:sys', VFS];
      const dir = await makePackage({
        packageName: pkg,
        publisher: 'test.os',
        witVersion: gen,
        processes: [{ name: 'st', wasm, requestCapabilities: mods, grantCapabilities: mods }],
      });
      const node = await bootNode({ packages: [dir] });
      try {
        const st = `fake.dev@st:${pkg}:test.os`;
        await node.waitForPrint(new RegExp(`rust echo ready ${st.replace(/\./g, '\\.')}$`), 60000);
        const d = node.driver();
        const store = async (args: string): Promise<string> => {
          const earlier = new Set(d.received);
          await d.request(st, `store ${args}`);
          return (await d.waitFor((m) => !earlier.has(m) && m.source === st && m.text.startsWith('store '), 120000)).text;
        };
        assert.equal(await store('setup'), 'store setup ok');
        for (const size of [MiB, 3 * MiB]) {
          assert.equal(await store(`vfs ${size} 6`), `store done vfs 6 0 ${6 * size}`);
          const file = readFileSync(join(node.opts.home, 'vfs', `${pkg}:test.os`, 'bench', `file-${size}.bin`));
          assert.equal(file.length, size);
          assert.ok(file.every((b, i) => b === (i & 255)), `file-${size}.bin holds the bytes the process wrote`);
        }
      } finally {
        await node.stop();
      }
    });
  });
}
