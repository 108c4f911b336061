// The child side of the kv and sqlite benchmark rows (bench/storage-db.ts): roles for
// bench/target.ts. `host-db`: a node with one probe-v1 process that has opened a kv db and a
// sqlite db; each command has the probe flood the module (send-request with expects-response,
// `window` in flight, the same body and blob every time, responses taken through receive).
// With `rustStore` (components/build/rust-store-v1.wasm), a Rust process of a second package
// does the same floods (commands `<op>@rust`: components/rust/src/store.rs, `store <op> <n> <window>`).
// `raw-db`: the same operations on the same stores called directly in this process — kv's own
// KvStore (the kv library) and better-sqlite3 with the pragmas the module uses.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { KinodeNode } from '../host/node.js';
import { parseProcessId } from '../host/kernel/address.js';
import { KvStore } from '../host/modules/kv/store.js';
import { makePackage } from './common.js';
import { num, type Args, type Handler } from './role-args.js';


export interface DbRoleEnv {
  commands: Map<string, Handler>;
  cleanups: Array<() => Promise<void> | void>;
  bootNode: (home: string, verbosity?: number) => Promise<KinodeNode>;
}

const PUB = 'bench.os';
const PKG = { package_name: 'benchdb', publisher_node: PUB };
const P = `fake.dev@p:benchdb:${PUB}`;
/** process_lib's typed key "bench-key" and a 64-byte JSON value */
const KEY = [...Buffer.from('"bench-key"')];
const VALUE = JSON.stringify({ v: 'x'.repeat(54) });
const ROW_TEXT = 'y'.repeat(64);

/** The requests of each command: body (and blob) exactly as process_lib builds them (v1). */
const OPS: Record<string, { target: string; body: unknown; blob?: string }> = {
  'kv-set': { target: 'our@kv:distro:sys', body: { package_id: PKG, db: 'bench', action: { Set: { key: KEY, tx_id: null } } }, blob: VALUE },
  'kv-get': { target: 'our@kv:distro:sys', body: { package_id: PKG, db: 'bench', action: { Get: KEY } } },
  'sql-insert': { target: 'our@sqlite:distro:sys', body: { package_id: PKG, db: 'bench', action: { Write: { statement: 'INSERT INTO t (v) VALUES (?)', tx_id: null } } }, blob: JSON.stringify([ROW_TEXT]) },
  'sql-select': { target: 'our@sqlite:distro:sys', body: { package_id: PKG, db: 'bench', action: { Query: 'SELECT id, v FROM t WHERE id = ?' } }, blob: '[1]' },
};

export function dbRoles(env: DbRoleEnv): Record<string, Handler> {
  const { commands } = env;

  /**
   * A Rust process (package benchrs) that opens its own kv and sqlite db `bench` (`store setup`,
   * each answer checked), then `<op>@rust` commands: `store <op> <n> <window>`, answered by the
   * process with `store done <op> <n> <errors>` once every response has come back through
   * receive (each checked against the expected body and blob). Timed here, around the command.
   */
  async function rustStoreCommands(node: KinodeNode, wasm: string, work: string, moduleErrors: () => number): Promise<void> {
    // vfs too: `store setup` also creates the process's vfs drive
    const mods = ['kv:distro:sys', 'sqlite:distro:sys', 'vfs:distro:sys'];
    const dir = await makePackage({
      dir: join(work, 'pkg-db-rust'),
      packageName: 'benchrs',
      publisher: PUB,
      witVersion: null,
      processes: [{ name: 'rs', wasm, requestCapabilities: mods, grantCapabilities: mods }],
    });
    const RS = `fake.dev@rs:benchrs:${PUB}`;
    await node.install(dir);
    await node.waitForPrint(new RegExp(`rust echo ready ${RS.replace(/\./g, '\\.')}$`), 60000);
    const d = node.driver();
    const store = async (args: string, timeoutS: number): Promise<string> => {
      const earlier = new Set(d.received);
      await d.request(RS, `store ${args}`);
      return (await d.waitFor((m) => !earlier.has(m) && m.source === RS && m.text.startsWith('store '), timeoutS * 1000)).text;
    };
    const setup = await store('setup', 30);
    if (setup !== 'store setup ok') throw new Error(`the Rust store process: ${setup}`);
    for (const name of Object.keys(OPS)) {
      commands.set(`${name}@rust`, async (c) => {
        const n = num(c, 'n');
        const before = moduleErrors();
        const t0 = performance.now();
        const report = await store(`${name} ${n} ${num(c, 'window')}`, num(c, 'timeoutS'));
        const ms = performance.now() - t0;
        const m = /^store done \S+ (\d+) (\d+)/.exec(report);
        if (!m || Number(m[1]) !== n) throw new Error(`the Rust store process: ${report}`);
        return { ms, errors: Number(m[2]) + (moduleErrors() - before), ...(Number(m[2]) ? { report } : {}) };
      });
    }
  }
  return {
    async 'host-db'(a) {
      // verbosity 1: the modules print every error they answer, so failed operations are counted
      const node = await env.bootNode(String(a.home), 1);
      const mods = ['kv:distro:sys', 'sqlite:distro:sys'];
      const dir = await makePackage({
        dir: join(String(a.work), 'pkg-db'),
        packageName: 'benchdb',
        publisher: PUB,
        witVersion: 1,
        processes: [{ name: 'p', wasm: 'probe-v1', requestCapabilities: mods, grantCapabilities: mods }],
      });
      await node.install(dir);
      await node.waitForPrint(new RegExp(`probe ready ${P.replace(/\./g, '\\.')}$`), 60000);
      const d = node.driver();
      const awaitVia = async (target: string, body: unknown, blob?: string): Promise<{ body: string; blob: string | undefined }> => {
        const r = await d.request(P, { op: 'await', target, body: JSON.stringify(body), expects: 10, ...(blob !== undefined ? { blob: { text: blob } } : {}) }, { expects: 30 });
        const j = r.json<{ ok?: { ok?: { body: string; blob: { b64: string } | null }; err?: unknown } }>();
        if (!j.ok?.ok) throw new Error(`${target} did not answer: ${r.text}`);
        return { body: j.ok.ok.body, blob: j.ok.ok.blob ? Buffer.from(j.ok.ok.blob.b64, 'base64').toString() : undefined };
      };
      const expectOk = async (target: string, body: unknown, blob?: string): Promise<void> => {
        const r = await awaitVia(target, body, blob);
        if (r.body !== '"Ok"') throw new Error(`${target}: ${r.body}`);
      };
      await expectOk('our@kv:distro:sys', { package_id: PKG, db: 'bench', action: 'Open' });
      await expectOk('our@sqlite:distro:sys', { package_id: PKG, db: 'bench', action: 'Open' });
      await expectOk('our@sqlite:distro:sys', { package_id: PKG, db: 'bench', action: { Write: { statement: 'CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)', tx_id: null } } });
      // one of each operation, checked, so that the floods below measure successful work
      for (const name of ['kv-set', 'kv-get', 'sql-insert', 'sql-select']) {
        const op = OPS[name]!;
        const r = await awaitVia(op.target, op.body, op.blob);
        const want = name === 'kv-get' ? `{"Get":${JSON.stringify(KEY)}}` : name === 'sql-select' ? '"Read"' : '"Ok"';
        if (r.body !== want) throw new Error(`${name}: ${r.body}`);
        if (name === 'kv-get' && r.blob !== VALUE) throw new Error(`kv-get returned ${r.blob}`);
        if (name === 'sql-select' && r.blob !== JSON.stringify([{ id: 1, v: ROW_TEXT }])) throw new Error(`sql-select returned ${r.blob}`);
      }
      // the same operations sent by the in-host test driver (a module: no process, no JS engine in the path)
      const driverPid = parseProcessId(d.names.v1);
      const DPKG = { package_name: driverPid.packageName, publisher_node: driverPid.publisherNode };
      const viaDriver = (name: string): { target: string; body: Uint8Array; blob: Uint8Array | undefined } => {
        const op = OPS[name]!;
        const body = { ...(op.body as Record<string, unknown>), package_id: DPKG };
        return { target: op.target, body: Buffer.from(JSON.stringify(body)), blob: op.blob !== undefined ? Buffer.from(op.blob) : undefined };
      };
      const driverOk = async (target: string, action: unknown, want: string): Promise<void> => {
        const r = await d.request(target, { package_id: DPKG, db: 'bench', action }, { expects: 10 });
        if (r.text !== want) throw new Error(`driver → ${target}: ${r.text}`);
      };
      await driverOk('our@kv:distro:sys', 'Open', '"Ok"');
      await driverOk('our@sqlite:distro:sys', 'Open', '"Ok"');
      await driverOk('our@sqlite:distro:sys', { Write: { statement: 'CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)', tx_id: null } }, '"Ok"');
      for (const name of Object.keys(OPS)) {
        const op = viaDriver(name);
        await d.request(op.target, op.body, { expects: 10, ...(op.blob ? { blob: { bytes: op.blob } } : {}) });
      }
      const moduleErrors = (): number => node.prints.filter((l) => /\b(kv|sqlite): /.test(l)).length;
      for (const name of Object.keys(OPS)) {
        const op = viaDriver(name);
        commands.set(`${name}@driver`, async (c) => {
          const n = num(c, 'n');
          const windowSize = num(c, 'window');
          const before = moduleErrors();
          let sent = 0;
          let done = 0;
          let errors = 0;
          const t0 = performance.now();
          await new Promise<void>((resolve) => {
            const settled = (): void => {
              done++;
              if (done === n) resolve();
              else if (sent < n) one();
            };
            const one = (): void => {
              sent++;
              d.request(op.target, op.body, { expects: 30, ...(op.blob ? { blob: { bytes: op.blob } } : {}) }).then(settled, () => {
                errors++;
                settled();
              });
            };
            while (sent < Math.min(n, windowSize)) one();
          });
          return { ms: performance.now() - t0, errors: errors + (moduleErrors() - before) };
        });
      }
      if (typeof a.rustStore === 'string') await rustStoreCommands(node, String(a.rustStore), String(a.work), moduleErrors);
      for (const name of Object.keys(OPS)) {
        commands.set(name, async (c) => {
          const op = OPS[name]!;
          const before = moduleErrors();
          const r = await d.request(
            P,
            { op: 'flood', target: op.target, body: JSON.stringify(op.body), ...(op.blob !== undefined ? { blob: { text: op.blob } } : {}), n: num(c, 'n'), window: num(c, 'window'), expects: 10 },
            { expects: num(c, 'timeoutS') },
          );
          const j = r.json<{ ok?: { ms: number; errors?: number }; err?: string }>();
          if (!j.ok) throw new Error(`flood failed: ${r.text}`);
          return { ms: j.ok.ms, errors: (j.ok.errors ?? 0) + (moduleErrors() - before) };
        });
      }
      return {};
    },

    async 'raw-db'(a) {
      const dir = join(String(a.work), `raw-db-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const kv = new KvStore(join(dir, 'kv'));
      const db = new Database(join(dir, 'bench.db'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
      env.cleanups.push(() => {
        kv.close();
        db.close();
      });
      const key = Uint8Array.from(KEY);
      const value = Buffer.from(VALUE);
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const select = db.prepare('SELECT id, v FROM t WHERE id = ?');
      insert.run(ROW_TEXT);
      kv.set(key, value);
      const loops: Record<string, () => void> = {
        'kv-set': () => kv.set(key, value),
        'kv-get': () => void kv.get(key),
        'sql-insert': () => void insert.run(ROW_TEXT),
        'sql-select': () => void select.all(1),
      };
      // the floor of a module that decodes with JSON.parse (ours reads process_lib's spelling in place,
      // wire/db-fast.ts, and can beat it): the same store call behind the least such an envelope
      // costs on the thread that owns the store — the request body decoded (bytes → JSON.parse), the
      // open db found in a Map, the answer's body built and encoded — with no kernel, no capability
      // check, no process and no thread crossing
      const enc = new TextEncoder();
      const dec = new TextDecoder();
      const open = new Map<string, { kv: KvStore; select: typeof select; insert: typeof insert }>([['benchdb\0bench.os\0bench', { kv, select, insert }]]);
      const bodyOf = (name: string): Uint8Array => Buffer.from(JSON.stringify(OPS[name]!.body));
      const envelope = (name: string, store: (db: { kv: KvStore; select: typeof select; insert: typeof insert }, action: Record<string, unknown>) => unknown): (() => void) => {
        const body = bodyOf(name);
        return () => {
          const r = JSON.parse(dec.decode(body)) as { package_id: { package_name: string; publisher_node: string }; db: string; action: Record<string, unknown> };
          const db = open.get(`${r.package_id.package_name}\0${r.package_id.publisher_node}\0${r.db}`)!;
          const answer = store(db, r.action);
          void enc.encode(JSON.stringify(answer));
        };
      };
      const params = Buffer.from('[1]');
      const value2 = Buffer.from(VALUE);
      loops['kv-set+envelope'] = envelope('kv-set', (db, a) => {
        db.kv.set(Uint8Array.from((a.Set as { key: number[] }).key), value2);
        return 'Ok';
      });
      loops['kv-get+envelope'] = envelope('kv-get', (db, a) => {
        void db.kv.get(Uint8Array.from(a.Get as number[]));
        return { Get: a.Get };
      });
      loops['sql-select+envelope'] = envelope('sql-select', (db) => {
        const rows = db.select.all(...(JSON.parse(dec.decode(params)) as number[])) as Array<{ id: number; v: string }>;
        void Buffer.from(JSON.stringify(rows));
        return 'Read';
      });
      for (const [name, f] of Object.entries(loops)) {
        commands.set(name, async (c) => {
          const n = num(c, 'n');
          const t0 = performance.now();
          for (let i = 0; i < n; i++) f();
          return { ms: performance.now() - t0, errors: 0 };
        });
      }
      return {};
    },
  };
}
