// sqlite:distro:sys through a real node, both generations: probes send exactly what
// process_lib's sqlite helpers send (statement in the action, parameters as a JSON array blob,
// always a blob on reads) and check the rows the runtime's encoding gives, transactions, the
// files under the home, persistence across a node restart, and every error variant.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cleanupTempDirs, cmd, inboxUntil, tempDir } from './helpers.js';
import { bootDbNode, call, PUB, type CallResult, type DbNode, type DbReply } from './kv-helpers.js';

const SQL = 'our@sqlite:distro:sys';

function ok(r: CallResult): DbReply {
  assert.ok(r.ok, `expected a reply, got ${JSON.stringify(r)}`);
  return r.reply;
}

describe('sqlite:distro:sys through a node', () => {
  let n: DbNode;
  const home = tempDir('kh-sqlite-home-');

  before(async () => {
    n = await bootDbNode('sqlite:distro:sys', 'sqt', home);
  });
  after(async () => {
    await n?.node.stop();
    cleanupTempDirs();
  });

  for (const gen of [0, 1] as const) {
    const pkgId = () => ({ package_name: n.pkg(gen), publisher_node: PUB });
    const req = (db: string, action: unknown) => ({ package_id: pkgId(), db, action });
    const P = () => n.who(gen, 'probe');
    const sq = (who: string, db: string, action: unknown, blob?: { text?: string; b64?: string }) => call(n.node, who, SQL, req(db, action), blob);
    /** process_lib's write(statement, params, tx_id) */
    const write = (who: string, statement: string, params: unknown[] = [], db = 'main') => sq(who, db, { Write: { statement, tx_id: null } }, { text: JSON.stringify(params) });
    const queryAction = (q: string) => (gen === 0 ? { Read: { query: q } } : { Query: q });
    /** process_lib's read(query, params): always with a blob */
    const read = (who: string, query: string, params: unknown[] = [], db = 'main') => sq(who, db, queryAction(query), { text: JSON.stringify(params) });
    const rows = (r: CallResult): string => {
      const rep = ok(r);
      assert.equal(rep.text, '"Read"', rep.text);
      assert.equal(rep.mime, 'application/octet-stream');
      return rep.blob!.toString();
    };
    const err = (r: CallResult): unknown => {
      const body = ok(r).body as { Err?: unknown };
      assert.ok(body && 'Err' in body, `expected an error, got ${ok(r).text}`);
      return gen === 0 ? (body.Err as { error: unknown }).error : body.Err;
    };

    describe(`process-v${gen}`, () => {
      it('Open, CREATE, INSERT with parameters of every type, SELECT: rows encoded as the runtime does', async () => {
        const open = ok(await sq(P(), 'main', 'Open'));
        assert.equal(open.text, '"Ok"');
        assert.equal(open.source, 'fake.dev@sqlite:distro:sys');
        assert.equal(ok(await write(P(), 'CREATE TABLE t (id INTEGER PRIMARY KEY, n, i, f, s, b, flag)')).text, '"Ok"');
        // null, int, float, text, blob (base64), bool; a u64-range int past 2^53 written as its exact text
        const params = '[null,42,1.5,"hello world","AQID",true]';
        assert.equal(ok(await sq(P(), 'main', { Write: { statement: 'INSERT INTO t (n, i, f, s, b, flag) VALUES (?, ?, ?, ?, ?, ?)', tx_id: null } }, { text: params })).text, '"Ok"');
        await sq(P(), 'main', { Write: { statement: 'INSERT INTO t (n, i, f, s, b, flag) VALUES (?1, ?2, ?3, ?4, ?5, ?6)', tx_id: null } }, { text: '[null,9007199254740993,2.0,"test","",false]' });
        const out = rows(await read(P(), 'SELECT * FROM t ORDER BY id'));
        // keys sorted (serde_json's BTreeMap); REAL as ryu writes it; BLOB as base64; "test" and "" are valid base64, so BLOBs
        assert.equal(
          out,
          '[{"b":"AQID","f":1.5,"flag":1,"i":42,"id":1,"n":null,"s":"hello world"},' + '{"b":"","f":2.0,"flag":0,"i":9007199254740993,"id":2,"n":null,"s":"test"}]',
        );
        assert.equal(rows(await read(P(), 'SELECT typeof(s) AS ts, typeof(b) AS tb, typeof(f) AS tf FROM t WHERE id = ?', [2])), '[{"tb":"blob","tf":"real","ts":"blob"}]');
        // a named parameter binds by index, as rusqlite's params_from_iter does
        assert.equal(rows(await read(P(), 'SELECT i FROM t WHERE id = :id', [1])), '[{"i":42}]');
        // no rows; a query without a blob; a query that returns no data
        assert.equal(rows(await read(P(), 'SELECT * FROM t WHERE id = 99')), '[]');
        assert.equal(rows(await sq(P(), 'main', queryAction('SELECT 1 AS one'))), '[{"one":1}]');
        assert.equal(rows(await read(P(), 'ANALYZE')), '[]');
      });

      it('the db file is under <home>/sqlite/<pkg>:<pub>/<db>/<db>.db, in WAL mode', async () => {
        const file = join(home, 'sqlite', `${n.pkg(gen)}:${PUB}`, 'main', 'main.db');
        assert.ok(existsSync(file), file);
        assert.ok(!existsSync(join(process.cwd(), 'main.db')), 'nothing in the working directory (v0 quirk not copied)');
        assert.equal(rows(await read(P(), 'PRAGMA journal_mode')), '[{"journal_mode":"wal"}]');
      });

      it('echoes the request metadata on success and sends none with an error', async () => {
        const body = (q: string) => JSON.stringify(req('main', queryAction(q)));
        await cmd(n.node, P(), { op: 'send', target: SQL, body: body('SELECT 2 AS two'), expects: 5, metadata: 'meta-1', blob: { text: '[]' } });
        await cmd(n.node, P(), { op: 'send', target: SQL, body: body('SELECT * FROM nope'), expects: 5, metadata: 'meta-2', blob: { text: '[]' } });
        const inbox = await inboxUntil(n.node, P(), (all) => all.filter((e) => e.kind === 'response').length >= 2);
        const [okR, errR] = inbox.filter((e) => e.kind === 'response') as Array<(typeof inbox)[number] & { metadata: string | null }>;
        assert.equal(okR!.body, '"Read"');
        assert.equal(okR!.metadata, 'meta-1');
        assert.equal(Buffer.from(okR!.blob!.b64, 'base64').toString(), '[{"two":1}]'.replace('1', '2'));
        assert.match(errR!.body, /no such table: nope/);
        assert.equal(errR!.metadata, null);
      });

      it('a transaction applies on Commit; one never committed leaves nothing', async () => {
        const raw = ok(await sq(P(), 'main', 'BeginTx')).text;
        assert.match(raw, /^\{"BeginTx":\{"tx_id":\d+\}\}$/);
        const tx = /\d+/.exec(raw)![0];
        const body = (action: string) => `{"package_id":${JSON.stringify(pkgId())},"db":"main","action":${action}}`;
        const inTx = (stmt: string, params: unknown[], id: string) => call(n.node, P(), SQL, body(`{"Write":{"statement":${JSON.stringify(stmt)},"tx_id":${id}}}`), { text: JSON.stringify(params) });
        assert.equal(ok(await inTx('INSERT INTO t (id, s) VALUES (?, ?)', [10, 'tx one'], tx)).text, '"Ok"');
        assert.equal(ok(await inTx('INSERT INTO t (id, s) VALUES (?, ?)', [11, 'tx two'], tx)).text, '"Ok"');
        assert.equal(rows(await read(P(), 'SELECT count(*) AS c FROM t WHERE id >= 10')), '[{"c":0}]', 'nothing before Commit');
        assert.equal(ok(await call(n.node, P(), SQL, body(`{"Commit":{"tx_id":${tx}}}`))).text, '"Ok"');
        assert.equal(rows(await read(P(), 'SELECT s FROM t WHERE id >= 10 ORDER BY id')), '[{"s":"tx one"},{"s":"tx two"}]');
        assert.equal(ok(await call(n.node, P(), SQL, body(`{"Commit":{"tx_id":${tx}}}`))).text, gen === 0 ? '{"Err":{"error":"NoTx"}}' : `{"Err":{"NoTx":${tx}}}`);
        // a failing statement rolls the whole transaction back
        const tx2 = /\d+/.exec(ok(await sq(P(), 'main', 'BeginTx')).text)![0];
        await inTx('INSERT INTO t (id, s) VALUES (?, ?)', [20, 'rolled back'], tx2);
        await inTx('INSERT INTO t (id, s) VALUES (?, ?)', [10, 'duplicate id'], tx2);
        assert.match(JSON.stringify(err(await call(n.node, P(), SQL, body(`{"Commit":{"tx_id":${tx2}}}`)))), /RusqliteError.*UNIQUE constraint failed: t\.id/);
        assert.equal(rows(await read(P(), 'SELECT count(*) AS c FROM t WHERE id = 20')), '[{"c":0}]');
        // an unknown tx id on Write starts a transaction (the runtime's behaviour); never committed, it leaves nothing
        assert.equal(ok(await inTx('INSERT INTO t (id, s) VALUES (?, ?)', [30, 'never'], '424242')).text, '"Ok"');
        assert.equal(rows(await read(P(), 'SELECT count(*) AS c FROM t WHERE id = 30')), '[{"c":0}]');
      });

      it('error variants: keywords, parameters, SQL errors, malformed bodies, bad tx id, bad db name', async () => {
        assert.equal(err(await read(P(), 'DELETE FROM t')), 'NotAReadKeyword');
        assert.equal(err(await read(P(), 'select*from t')), 'NotAReadKeyword', 'the first whitespace-separated word');
        assert.equal(err(await write(P(), 'SELECT 1')), 'NotAWriteKeyword');
        assert.equal(err(await write(P(), '')), 'NotAWriteKeyword');
        assert.equal(err(await sq(P(), 'main', queryAction('SELECT ?'), { text: '{"a":1}' })), 'InvalidParameters');
        assert.equal(err(await sq(P(), 'main', queryAction('SELECT ?'), { text: '[[1]]' })), 'InvalidParameters');
        assert.equal(err(await sq(P(), 'main', queryAction('SELECT ?'), { text: 'not json' })), 'InvalidParameters');
        const sqlErr = (e: unknown): string => (gen === 0 ? (e as { RusqliteError: { error: string } }).RusqliteError.error : (e as { RusqliteError: string }).RusqliteError);
        assert.equal(sqlErr(err(await read(P(), 'SELECT * FROM nope'))), 'no such table: nope');
        assert.equal(sqlErr(err(await read(P(), 'SELECT ?, ?', [1]))), 'Wrong number of parameters passed to query. Got 1, needed 2');
        assert.equal(sqlErr(err(await read(P(), 'SELECT ?', [1, 2]))), 'Wrong number of parameters passed to query. Got 2, needed 1');
        assert.equal(sqlErr(err(await write(P(), 'INSERT INTO t (id) VALUES (100); INSERT INTO t (id) VALUES (101)'))), 'Multiple statements provided');
        const malformed = gen === 0 ? { InputError: { error: "didn't serialize to SqliteRequest." } } : 'MalformedRequest';
        assert.deepEqual(err(await call(n.node, P(), SQL, '{"package_id":')), malformed);
        assert.deepEqual(err(await sq(P(), 'main', { Frobnicate: 'x' })), malformed);
        assert.deepEqual(err(await call(n.node, P(), SQL, { db: 'main', action: 'Open' })), malformed, 'missing package_id');
        // the other era's query shape
        assert.deepEqual(err(await sq(P(), 'main', gen === 0 ? { Query: 'SELECT 1' } : { Read: { query: 'SELECT 1' } }, { text: '[]' })), malformed);
        if (gen === 0) assert.equal(ok(await sq(P(), 'main', 'Backup')).text, '"Ok"');
        else assert.deepEqual(err(await sq(P(), 'main', 'Backup')), malformed);
        assert.deepEqual(err(await sq(P(), 'main', { Commit: { tx_id: 7 } })), gen === 0 ? 'NoTx' : { NoTx: 7 });
        for (const bad of ['../escape', 'a/b', '.']) {
          const e = err(await sq(P(), bad, 'Open')) as Record<string, unknown>;
          assert.match(JSON.stringify(e), /IOError.*invalid db name/);
        }
        assert.ok(!existsSync(join(home, 'sqlite', 'escape')));
        // the node keeps running
        assert.equal(rows(await read(P(), 'SELECT count(*) AS c FROM t WHERE id < 10')), '[{"c":2}]');
      });

      it('caps: another process of the package must Open first; another package cannot Open and needs caps shared with it', async () => {
        const other = n.who(gen, 'other');
        const q = 'SELECT s FROM t WHERE id = 1';
        const noRead = gen === 0 ? { NoCap: { error: `Read { query: "${q}" }` } } : 'NoReadCap';
        const stmt = 'DELETE FROM t';
        const noWrite = gen === 0 ? { NoCap: { error: `Write { statement: "${stmt}", tx_id: None }` } } : 'NoWriteCap';
        assert.deepEqual(err(await read(other, q)), noRead);
        assert.deepEqual(err(await write(other, stmt)), noWrite);
        assert.equal(ok(await sq(other, 'main', 'Open')).text, '"Ok"');
        assert.equal(rows(await read(other, q)), '[{"s":"hello world"}]');

        const peer = n.peer(gen);
        assert.deepEqual(err(await sq(peer, 'main', 'Open')), gen === 0 ? { NoCap: { error: 'Open' } } : 'MismatchingPackageId');
        assert.deepEqual(err(await read(peer, q)), noRead);
        const caps = (await cmd<Array<{ issuer: string; params: string }>>(n.node, P(), { op: 'ourCaps' })).filter(
          (c) => c.issuer === 'fake.dev@sqlite:distro:sys' && c.params !== '"messaging"' && JSON.parse(c.params).kind === 'read' && c.params.includes('"main"'),
        );
        assert.equal(caps.length, 1);
        await cmd(n.node, P(), { op: 'send', target: peer, body: 'sqlite cap', caps });
        const got = await inboxUntil(n.node, peer, (all) => all.some((e) => e.body === 'sqlite cap'));
        await cmd(n.node, peer, { op: 'saveCaps', caps: got.find((e) => e.body === 'sqlite cap')!.caps });
        assert.equal(rows(await read(peer, q)), '[{"s":"hello world"}]');
        assert.deepEqual(err(await write(peer, stmt)), noWrite);
      });

      it('without the messaging cap the request is dropped; without granting sqlite messaging the reply is dropped', async () => {
        assert.deepEqual(await sq(n.who(gen, 'nocap'), 'main', 'Open'), { ok: false, errorKind: 'timeout' });
        assert.deepEqual(await call(n.node, n.who(gen, 'nogrant'), SQL, req('main', 'Open'), undefined, 2), { ok: false, errorKind: 'timeout' });
      });
    });
  }

  it('a restarted node finds the rows and the caps Open granted; the file is a plain SQLite db', async () => {
    await n.node.stop();
    const file = join(home, 'sqlite', `${n.pkg(1)}:${PUB}`, 'main', 'main.db');
    const direct = new Database(file, { readonly: true });
    assert.equal((direct.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c, 4);
    direct.close();
    n = await bootDbNode('sqlite:distro:sys', 'sqt', home, false);
    for (const gen of [0, 1] as const) {
      const pkgId = { package_name: n.pkg(gen), publisher_node: PUB };
      const action = gen === 0 ? { Read: { query: 'SELECT s FROM t ORDER BY id' } } : { Query: 'SELECT s FROM t ORDER BY id' };
      const r = ok(await call(n.node, n.who(gen, 'probe'), SQL, { package_id: pkgId, db: 'main', action }, { text: '[]' }));
      assert.equal(r.blob?.toString(), '[{"s":"hello world"},{"s":"test"},{"s":"tx one"},{"s":"tx two"}]');
    }
  });
});
