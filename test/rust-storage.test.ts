// The Rust storage client (components/rust, feature `store`: rust-store-vN.wasm) really stores:
// it sends process_lib's kv / sqlite / vfs requests in its era's shape, and this test reads what
// it wrote back from the node's files (kv's and sqlite's SQLite files, the vfs file), and checks
// that the client counts wrong answers as errors — the benchmark's Rust-process storage rows
// (bench/storage-db.ts, bench/storage-vfs.ts) rely on both. Skipped when the Rust web toolchain
// is missing (components/rust/README.md).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';

const built = (gen: 0 | 1): string => fileURLToPath(new URL(`../../components/build/rust-store-v${gen}.wasm`, import.meta.url));
const KV = 'kv:distro:sys';
const SQLITE = 'sqlite:distro:sys';
const VFS = 'vfs:distro:sys';
/** what store.rs sends: process_lib's typed key "bench-key" (JSON text) and a 64-byte JSON value */
const KEY = '"bench-key"';
const VALUE = `{"v":"${'x'.repeat(54)}"}`;
const ROW_TEXT = 'y'.repeat(64);

after(() => cleanupTempDirs());

/** Sends `store <args>` to `who` and waits for its report (a request back to the driver). */
async function store(node: KinodeNode, who: string, args: string, timeoutMs = 60000): Promise<string> {
  const d = node.driver();
  const earlier = new Set(d.received);
  await d.request(who, `store ${args}`);
  const r = await d.waitFor((m) => !earlier.has(m) && m.source === who && m.text.startsWith('store '), timeoutMs);
  return r.text;
}

function readOnly(file: string): Database.Database {
  assert.ok(existsSync(file), `${file} exists`);
  return new Database(file, { readonly: true, fileMustExist: true });
}

for (const gen of [0, 1] as const) {
  const wasm = built(gen);
  describe(`Rust storage client, process-v${gen}`, { skip: existsSync(wasm) ? false : `${wasm} not built (no Rust web toolchain)` }, () => {
    it('writes through kv, sqlite and vfs; the node’s files hold what it wrote; its checks count wrong answers', async () => {
      const pkg = `rstore${gen}`;
      const mods = [KV, SQLITE, VFS];
      const dir = await makePackage({
        packageName: pkg,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          { name: 'st', wasm, requestCapabilities: mods, grantCapabilities: mods },
          // same package, never opens the dbs: no read / write caps of its own
          { name: 'other', wasm, requestCapabilities: mods, grantCapabilities: mods },
        ],
      });
      const node = await bootNode({ packages: [dir] });
      try {
        const st = `fake.dev@st:${pkg}:test.os`;
        const other = `fake.dev@other:${pkg}:test.os`;
        for (const p of [st, other]) await node.waitForPrint(new RegExp(`rust echo ready ${p.replace(/\./g, '\\.')}$`));
        assert.equal(await store(node, st, 'setup'), 'store setup ok');

        assert.equal(await store(node, st, 'kv-set 40 8'), 'store done kv-set 40 0');
        assert.equal(await store(node, st, 'kv-get 40 8'), 'store done kv-get 40 0');
        const kv = readOnly(join(node.opts.home, 'kv', `${pkg}:test.os`, 'bench', 'kv.sqlite3'));
        try {
          const rows = kv.prepare('SELECT key, value FROM kv').all() as Array<{ key: Buffer; value: Buffer }>;
          assert.deepEqual(rows.map((r) => [r.key.toString(), r.value.toString()]), [[KEY, VALUE]]);
        } finally {
          kv.close();
        }

        assert.equal(await store(node, st, 'sql-insert 40 8'), 'store done sql-insert 40 0');
        assert.equal(await store(node, st, 'sql-select 40 8'), 'store done sql-select 40 0');
        const sql = readOnly(join(node.opts.home, 'sqlite', `${pkg}:test.os`, 'bench', 'bench.db'));
        try {
          // the row of setup and the 40 of the flood, each with the one parameter the client sent
          // (a 64-char string that is valid base64 is stored as a BLOB: the runtime's quirk)
          const rows = sql.prepare('SELECT id, v FROM t ORDER BY id').all() as Array<{ id: number; v: Buffer | string }>;
          assert.equal(rows.length, 41);
          assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 41 }, (_, i) => i + 1));
          for (const r of rows) assert.equal(typeof r.v === 'string' ? r.v : r.v.toString('base64'), ROW_TEXT);
        } finally {
          sql.close();
        }

        for (const size of [4096, 1 << 20]) {
          assert.equal(await store(node, st, `vfs ${size} 3`), `store done vfs 3 0 ${3 * size}`);
          const file = readFileSync(join(node.opts.home, 'vfs', `${pkg}:test.os`, 'bench', `file-${size}.bin`));
          assert.equal(file.length, size);
          assert.ok(file.every((b, i) => b === (i & 255)), `file-${size}.bin holds the bytes the process wrote`);
        }

        // `other` has not opened the db: every Set is refused, and the client counts each one
        const refused = await store(node, other, 'kv-set 5 2');
        const noCap = gen === 0 ? /^store done kv-set 5 5 first error: answer \{"Err":\{"error":\{"NoCap"/ : /^store done kv-set 5 5 first error: answer \{"Err":"NoWriteCap"\}$/;
        assert.match(refused, noCap);
        assert.match(await store(node, st, 'bogus 1 1'), /^store failed: unknown op bogus$/);
      } finally {
        await node.stop();
      }
    });
  });
}
