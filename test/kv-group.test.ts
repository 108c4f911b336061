// kv group commit (host/modules/db/group-commit.ts, docs/performance.md §22). Through a node,
// both generations: a probe sends many kv requests in one send-requests call (one run for the
// module); every one is answered, in the order sent, a Set on a db the process may not write
// gets its own error while the rest succeed, a Get in the run sees the Sets before it, and all
// of it is there after a node restart. On a real SQLite connection: no write is answered before
// its commit, and a statement that fails inside a group (a CHECK constraint; a full db, which
// SQLite may answer by rolling the whole transaction back) leaves every op with the answer it
// gets alone.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit, type GroupMember } from '../host/modules/db/group-commit.js';
import { cleanupTempDirs, cmd, inboxUntil, tempDir, type InboxEntry } from './helpers.js';
import { bootDbNode, call, jsonBytes, PUB, type DbNode } from './kv-helpers.js';

const KV = 'our@kv:distro:sys';
const N = 48;

describe('kv group commit through a node', () => {
  let n: DbNode;
  const home = tempDir('kh-kvg-home-');

  before(async () => {
    n = await bootDbNode('kv:distro:sys', 'kvg', home);
  });
  after(async () => {
    await n?.node.stop();
    cleanupTempDirs();
  });

  for (const gen of [0, 1] as const) {
    const pkgId = (pkg: string) => ({ package_name: pkg, publisher_node: PUB });
    const body = (pkg: string, db: string, action: unknown) => JSON.stringify({ package_id: pkgId(pkg), db, action });
    const get = (key: number[]) => (gen === 0 ? { Get: { key } } : { Get: key });
    const key = (i: number) => jsonBytes(`k${i}`);
    const value = (i: number) => `{"v":${i}}`;
    const errOf = (text: string): unknown => {
      const b = JSON.parse(text) as { Err?: unknown };
      return gen === 0 ? (b.Err as { error: unknown } | undefined)?.error : b.Err;
    };

    it(`process-v${gen}: ${N} requests sent in one go are all answered in order; one on a db it may not write fails alone; all persisted`, async () => {
      const P = n.who(gen, 'probe');
      const mine = n.pkg(gen);
      const peerPkg = `kvgpeer${gen}`;
      const open = await call(n.node, P, KV, body(mine, 'g', 'Open'));
      assert.ok(open.ok && open.reply.text === '"Ok"', JSON.stringify(open));
      // the peer package's db exists, but this probe holds no write cap on it
      const peerOpen = await call(n.node, n.peer(gen), KV, body(peerPkg, 'p', 'Open'));
      assert.ok(peerOpen.ok && peerOpen.reply.text === '"Ok"', JSON.stringify(peerOpen));

      const BAD = 17; // a Set on the peer's db
      const READ = 30; // a Get of key 3, set earlier in the same run
      const DELETED = 5; // deleted later in the run
      const requests = Array.from({ length: N }, (_, i) => {
        const base = { target: KV, expects: 10, context: String(i) };
        if (i === BAD) return { ...base, body: body(peerPkg, 'p', { Set: { key: key(i), tx_id: null } }), blob: { text: value(i) } };
        if (i === READ) return { ...base, body: body(mine, 'g', get(key(3))) };
        if (i === 40) return { ...base, body: body(mine, 'g', { Delete: { key: key(DELETED), tx_id: null } }) };
        return { ...base, body: body(mine, 'g', { Set: { key: key(i), tx_id: null } }), blob: { text: value(i) } };
      });
      await cmd(n.node, P, { op: 'sendMany', requests });
      const got = await inboxUntil(n.node, P, (all) => all.filter((e) => e.kind === 'response').length >= N, 30000);
      const responses = got.filter((e): e is InboxEntry => e.kind === 'response');
      assert.deepEqual(
        responses.map((e) => Number(e.context)),
        Array.from({ length: N }, (_, i) => i),
        'answers in the order the requests were sent',
      );
      for (const e of responses) {
        const i = Number(e.context);
        assert.equal(e.source, 'fake.dev@kv:distro:sys');
        if (i === BAD) assert.deepEqual(errOf(e.body), gen === 0 ? { NoCap: { error: `Set { key: [${key(i).join(', ')}], tx_id: None }` } } : 'NoWriteCap', e.body);
        else if (i === READ) {
          assert.equal(e.body, gen === 0 ? `{"Get":{"key":[${key(3).join(',')}]}}` : `{"Get":[${key(3).join(',')}]}`);
          assert.equal(Buffer.from(e.blob!.b64, 'base64').toString(), value(3));
        } else assert.equal(e.body, '"Ok"', `request ${i}`);
      }
      // the peer's db did not get the Set
      const peerGet = await call(n.node, n.peer(gen), KV, body(peerPkg, 'p', get(key(BAD))));
      assert.ok(peerGet.ok);
      assert.ok(/KeyNotFound/.test(peerGet.reply.text), peerGet.reply.text);
    });
  }

  it('after a node restart every answered Set is there (both generations)', async () => {
    await n.node.stop();
    n = await bootDbNode('kv:distro:sys', 'kvg', home, false);
    for (const gen of [0, 1] as const) {
      const get = (key: number[]) => (gen === 0 ? { Get: { key } } : { Get: key });
      const P = n.who(gen, 'probe');
      for (let i = 0; i < N; i++) {
        const r = await call(n.node, P, KV, JSON.stringify({ package_id: { package_name: n.pkg(gen), publisher_node: PUB }, db: 'g', action: get(jsonBytes(`k${i}`)) }));
        assert.ok(r.ok, JSON.stringify(r));
        if (i === 17 || i === 30 || i === 40 || i === 5) assert.ok(/KeyNotFound/.test(r.reply.text), `v${gen} key ${i}: ${r.reply.text}`);
        else assert.equal(r.reply.blob?.toString(), `{"v":${i}}`, `v${gen} key ${i}`);
      }
    }
  });
});

/** A table on a real SQLite connection as a group member; `v` may not be 'bad'. */
class Table implements GroupMember {
  readonly db: Database.Database;
  beforeClose: (() => void) | undefined;
  groupRun: unknown = undefined;
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT NOT NULL CHECK (v <> 'bad'))");
  }
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }
  begin(): void {
    this.db.exec('BEGIN');
  }
  commit(): void {
    this.db.exec('COMMIT');
  }
  rollback(): void {
    this.db.exec('ROLLBACK');
  }
}

describe('group commit on a real SQLite connection', () => {
  after(cleanupTempDirs);
  const setup = () => {
    const file = join(tempDir('kh-kvg-'), 'g.sqlite3');
    const table = new Table(file);
    const outside = new Database(file);
    const group = new GroupCommit<string>((e) => {
      throw e;
    });
    const sent: string[] = [];
    const set = (k: string, v: string) => () => (table.db.prepare('INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)').run(k, v), 'ok');
    const read = (k: string) => () => String((table.db.prepare('SELECT v FROM t WHERE k = ?').pluck().get(k) as string | undefined) ?? 'none');
    const failed = (e: unknown) => `error: ${(e as Error).message}`;
    const op = (i: number, write: boolean, exec: () => string) =>
      group.run(table, write, { exec, failed, reply: (o) => void sent.push(`${i} ${o}`), outcome: undefined });
    const rows = () => outside.prepare('SELECT k, v FROM t ORDER BY k').all() as Array<{ k: string; v: string }>;
    const close = () => {
      outside.close();
      table.db.close();
    };
    return { table, outside, group, sent, set, read, op, rows, close };
  };
  const nextTask = () => new Promise((r) => setImmediate(r));

  it('no write is answered before its commit; a read before the first write is answered at once', async () => {
    const s = setup();
    try {
      s.op(0, false, s.read('a'));
      for (let i = 1; i <= 5; i++) s.op(i, true, s.set(`k${i}`, `v${i}`));
      s.op(6, false, s.read('k2'));
      assert.deepEqual(s.sent, ['0 none'], 'only the read that saw committed data is answered');
      assert.deepEqual(s.rows(), [], 'another connection sees nothing before the commit');
      await nextTask();
      assert.deepEqual(s.sent, ['0 none', '1 ok', '2 ok', '3 ok', '4 ok', '5 ok', '6 v2']);
      assert.equal(s.rows().length, 5);
      assert.equal(s.table.inTransaction, false, 'nothing left open once the task is over');
    } finally {
      s.close();
    }
  });

  it('a statement failing inside the group: the group is rolled back and each op gets its answer alone, in order', async () => {
    const s = setup();
    try {
      s.op(0, true, s.set('a', '1'));
      s.op(1, true, s.set('b', 'bad'));
      s.op(2, true, s.set('c', '3'));
      s.op(3, false, s.read('a'));
      s.op(4, false, s.read('b'));
      assert.deepEqual(s.sent, []);
      await nextTask();
      assert.equal(s.sent.length, 5);
      assert.deepEqual([s.sent[0], s.sent[2], s.sent[3], s.sent[4]], ['0 ok', '2 ok', '3 1', '4 none']);
      assert.match(s.sent[1]!, /^1 error: CHECK constraint failed/);
      assert.deepEqual(s.rows(), [
        { k: 'a', v: '1' },
        { k: 'c', v: '3' },
      ]);
    } finally {
      s.close();
    }
  });

  it('a full db (SQLite may roll the whole transaction back): the ops that fit succeed, the one that does not gets its error', async () => {
    const s = setup();
    try {
      s.table.db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('seed', 'x');
      const pages = s.table.db.pragma('page_count', { simple: true }) as number;
      s.table.db.pragma(`max_page_count = ${pages + 2}`);
      s.op(0, true, s.set('a', '1'));
      s.op(1, true, s.set('big', 'y'.repeat(200_000)));
      s.op(2, true, s.set('b', '2'));
      s.op(3, false, s.read('a'));
      await nextTask();
      assert.equal(s.sent.length, 4);
      assert.deepEqual([s.sent[0], s.sent[2], s.sent[3]], ['0 ok', '2 ok', '3 1']);
      assert.match(s.sent[1]!, /^1 error: database or disk is full/);
      assert.deepEqual(s.rows().map((r) => r.k), ['a', 'b', 'seed']);
    } finally {
      s.close();
    }
  });

  it('answers of ops that need no group queue behind held ones; settle commits and sends at once', () => {
    const s = setup();
    try {
      s.op(0, true, s.set('a', '1'));
      s.group.answer(() => s.sent.push('1 other'));
      assert.deepEqual(s.sent, []);
      s.group.settle();
      assert.deepEqual(s.sent, ['0 ok', '1 other']);
      assert.deepEqual(s.rows(), [{ k: 'a', v: '1' }]);
      s.group.answer(() => s.sent.push('2 other'));
      assert.deepEqual(s.sent, ['0 ok', '1 other', '2 other'], 'nothing held: sent at once');
    } finally {
      s.close();
    }
  });
});
