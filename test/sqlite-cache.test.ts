// The per-statement memos of a sqlite db (modules/sqlite/database.ts): prepared statements and
// their row layouts are reused across requests, and every way the schema can change through the
// module (a Write, a Commit, a non-reading Query such as PRAGMA or a WITH … DELETE) makes the next
// answer name the columns as they are then. Reads that arrive together share one read transaction
// (modules/db/read-batch.ts): they see every earlier write, a write among them is committed (seen
// by another connection) before it returns, and a transaction a Query opened is left alone. Also:
// the parameter list read in place (modules/sqlite/params.ts) gives what the strict reader gives.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SqliteDb } from '../host/modules/sqlite/database.js';
import { KvStore } from '../host/modules/kv/store.js';
import { parseParams, InvalidParameters } from '../host/modules/sqlite/params.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

const rows = (u: Uint8Array): unknown => JSON.parse(Buffer.from(u).toString());

after(cleanupTempDirs);

describe('sqlite statement and layout memos', () => {
  it('a repeated SELECT * sees every schema change made through the module', () => {
    const db = new SqliteDb(tempDir('kh-sqlc-'), 'd');
    try {
      db.write('CREATE TABLE t (a INTEGER, b TEXT)', []);
      db.write('INSERT INTO t (a, b) VALUES (?, ?)', [1n, 'x']);
      const all = 'SELECT * FROM t';
      assert.deepEqual(rows(db.query(all, [])), [{ a: 1, b: 'x' }]);
      assert.deepEqual(rows(db.query(all, [])), [{ a: 1, b: 'x' }], 'the memo answers the same');
      // a Write renames a column: same width, new name
      db.write('ALTER TABLE t RENAME COLUMN a TO c', []);
      assert.deepEqual(rows(db.query(all, [])), [{ b: 'x', c: 1 }]);
      // a Commit replaces the table with other columns
      db.commit([
        ['DROP TABLE t', []],
        ['CREATE TABLE t (z TEXT, y INTEGER)', []],
        ['INSERT INTO t (z, y) VALUES (?, ?)', ['q', 7n]],
      ]);
      assert.deepEqual(rows(db.query(all, [])), [{ y: 7, z: 'q' }]);
      // a non-reading Query changes the schema: a WITH … that drops nothing but the reader rule, and a write through Query
      db.query('WITH x AS (SELECT 1) DELETE FROM t WHERE y = 0', []);
      db.write('ALTER TABLE t RENAME COLUMN z TO w', []);
      assert.deepEqual(rows(db.query(all, [])), [{ w: 'q', y: 7 }]);
      assert.deepEqual(rows(db.query('SELECT y AS n, w AS n FROM t', [])), [{ n: 'q' }], 'a repeated name keeps its last column');
    } finally {
      db.close();
    }
  });

  it('a row of another width than the remembered layout asks SQLite again', async () => {
    const dir = tempDir('kh-sqlc-');
    const db = new SqliteDb(dir, 'd');
    const other = new SqliteDb(dir, 'd'); // a second connection: a program beside the module
    try {
      db.write('CREATE TABLE t (a INTEGER)', []);
      db.write('INSERT INTO t (a) VALUES (1)', []);
      assert.deepEqual(rows(db.query('SELECT * FROM t', [])), [{ a: 1 }]);
      await new Promise((r) => setImmediate(r)); // the reads' transaction ends with the task that opened it
      other.write('ALTER TABLE t ADD COLUMN b TEXT DEFAULT \'d\'', []);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rows(db.query('SELECT * FROM t', [])), [{ a: 1, b: 'd' }]);
    } finally {
      other.close();
      db.close();
    }
  });

  it('sqlite: reads share a transaction that every write ends first, committed at once', async () => {
    const dir = tempDir('kh-sqlc-');
    const db = new SqliteDb(dir, 'd');
    const outside = new Database(join(dir, 'd.db'));
    try {
      db.write('CREATE TABLE t (a INTEGER)', []);
      assert.deepEqual(rows(db.query('SELECT count(*) AS n FROM t', [])), [{ n: 0 }]);
      db.write('INSERT INTO t (a) VALUES (1)', []); // in the same task as the read before it
      assert.equal((outside.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1, 'committed before it returned');
      assert.deepEqual(rows(db.query('SELECT count(*) AS n FROM t', [])), [{ n: 1 }], 'a later read sees it');
      db.commit([['INSERT INTO t (a) VALUES (2)', []]]);
      assert.equal((outside.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 2);
      // a transaction a Query opened is the sender's: the batch neither commits nor nests in it
      db.query('BEGIN', []);
      assert.deepEqual(rows(db.query('SELECT count(*) AS n FROM t', [])), [{ n: 2 }]);
      await new Promise((r) => setImmediate(r));
      db.write('INSERT INTO t (a) VALUES (3)', []);
      await new Promise((r) => setImmediate(r));
      assert.equal((outside.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 2, 'still inside the sender\'s transaction');
      db.query('COMMIT', []);
      assert.equal((outside.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 3);
      // no transaction is left open once the task is over: another connection may write
      assert.deepEqual(rows(db.query('SELECT count(*) AS n FROM t', [])), [{ n: 3 }]);
      await new Promise((r) => setImmediate(r));
      outside.exec('BEGIN IMMEDIATE; INSERT INTO t (a) VALUES (4); COMMIT');
      assert.deepEqual(rows(db.query('SELECT count(*) AS n FROM t', [])), [{ n: 4 }]);
    } finally {
      outside.close();
      db.close();
    }
  });

  it('kv: Gets share a transaction that a Set ends first, committed at once', async () => {
    const dir = tempDir('kh-kvc-');
    const kv = new KvStore(dir);
    const outside = new Database(join(dir, 'kv.sqlite3'));
    const k = Buffer.from('k');
    try {
      assert.equal(kv.get(k), undefined);
      kv.set(k, Buffer.from('v1'));
      assert.equal(Buffer.from((outside.prepare('SELECT value FROM kv').pluck().get() as Buffer)).toString(), 'v1');
      assert.equal(Buffer.from(kv.get(k)!).toString(), 'v1');
      kv.apply([{ op: 'set', key: k, value: Buffer.from('v2') }]);
      assert.equal(Buffer.from(kv.get(k)!).toString(), 'v2');
      kv.delete(k);
      assert.equal(kv.get(k), undefined);
      assert.equal(outside.prepare('SELECT count(*) FROM kv').pluck().get(), 0);
      await new Promise((r) => setImmediate(r));
      outside.exec("BEGIN IMMEDIATE; INSERT INTO kv (key, value) VALUES (x'6b', x'7733'); COMMIT");
      assert.equal(Buffer.from(kv.get(k)!).toString(), 'w3');
    } finally {
      outside.close();
      kv.close();
    }
  });

  it('parameters read in place equal the strict reader, which still refuses what it refused', () => {
    const p = (s: string) => parseParams(Buffer.from(s));
    const slow = (s: string) => parseParams(Buffer.from(`[ ${s.slice(1)}`));
    for (const s of ['[]', '[1]', '[-5,0,999999999999999]', '["yyyy","test","a b",null,true,false]', '["abc="]', '[1,"x",null]']) {
      assert.deepEqual(p(s), slow(s), s);
    }
    assert.deepEqual(p('[1]'), [1n]);
    assert.deepEqual(p('["test"]'), [Buffer.from('test', 'base64')], 'valid base64 is a BLOB, as in the runtime');
    // what only the strict reader takes: floats, -0, long integers, escapes, whitespace
    assert.deepEqual(p('[-0]'), [-0]);
    assert.deepEqual(p('[1.5,1e2]'), [1.5, 100]);
    assert.deepEqual(p('[9223372036854775807,9223372036854775808]'), [9223372036854775807n, 9223372036854775808]);
    assert.deepEqual(p('["a\\"b"]'), ['a"b']);
    for (const bad of ['[[1]]', '[{"a":1}]', '{}', '[1,]', '[01]', '[1]x', 'nope']) {
      assert.throws(() => p(bad), InvalidParameters, bad);
    }
  });
});
