// The pure pieces of kv and sqlite without a node: request parsing per era (serde's rules),
// error bodies per era, Rust Debug texts of v0's NoCap, parameter conversion (base64 quirk,
// number kinds), rusqlite-style binding by index, and REAL written the way serde_json/ryu does.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseKvRequest, kvErrorBody, kvActionDebug } from '../host/wire/kv.js';
import { parseSqliteRequest, sqliteErrorBody, sqliteActionDebug } from '../host/wire/sqlite.js';
import { capParams, rustDebugStr } from '../host/wire/db-request.js';
import { parseParams, strictBase64, InvalidParameters } from '../host/modules/sqlite/params.js';
import { bindArgs, paramSlots, ParamCountError } from '../host/modules/sqlite/bind.js';
import { ryuF64, rowsJson } from '../host/modules/sqlite/rows.js';
import { dbDir, DbPathError } from '../host/modules/db/paths.js';

const b = (s: string): Uint8Array => Buffer.from(s);
const t = (u: Uint8Array): string => Buffer.from(u).toString();
const PKG = '{"package_name":"p","publisher_node":"pub.os"}';
const key = { pkg: { packageName: 'p', publisherNode: 'pub.os' }, db: 'd' };

describe('kv wire', () => {
  it('parses each era\'s actions, serde-style', () => {
    const r = (action: string, gen: 0 | 1) => parseKvRequest(b(`{"package_id":${PKG},"db":"d","action":${action},"extra":1}`), gen).action;
    assert.deepEqual(r('"Open"', 1), { tag: 'Open' });
    assert.deepEqual(r('{"Open":null}', 0), { tag: 'Open' });
    assert.deepEqual(r('{"Get":{"key":[1,2]}}', 0), { tag: 'Get', key: Uint8Array.from([1, 2]) });
    assert.deepEqual(r('{"Get":[1,2]}', 1), { tag: 'Get', key: Uint8Array.from([1, 2]) });
    assert.deepEqual(r('{"Set":{"key":[9]}}', 1), { tag: 'Set', key: Uint8Array.from([9]), txId: undefined });
    assert.deepEqual(r('{"Commit":{"tx_id":18446744073709551615}}', 1), { tag: 'Commit', txId: 18446744073709551615n });
    assert.deepEqual(r('"Backup"', 0), { tag: 'Backup' });
    for (const [action, gen] of [['"Backup"', 1], ['{"Get":[1]}', 0], ['{"Get":{"key":[1]}}', 1], ['{"Get":[256]}', 1], ['"Set"', 1], ['{"Commit":{"tx_id":-1}}', 0], ['"Nope"', 0]] as const) {
      assert.throws(() => r(action, gen), `${action} in v${gen}`);
    }
    assert.throws(() => parseKvRequest(b(`{"package_id":${PKG},"action":"Open"}`), 1));
    assert.throws(() => parseKvRequest(b(`{"package_id":${PKG},"db":"d","db":"e","action":"Open"}`), 1));
  });

  it('renders errors per era; v0 NoCap names the action as Rust Debug does', () => {
    assert.equal(t(kvErrorBody({ kind: 'no-db', key }, 1)), `{"Err":{"NoDb":[${PKG},"d"]}}`);
    assert.equal(t(kvErrorBody({ kind: 'no-db', key }, 0)), '{"Err":{"error":"NoDb"}}');
    assert.equal(t(kvErrorBody({ kind: 'store', action: undefined, text: 'x' }, 0)), '{"Err":{"error":{"RocksDBError":{"action":"","error":"x"}}}}');
    assert.equal(kvActionDebug({ tag: 'Set', key: Uint8Array.from([1, 2]), txId: 5n }), 'Set { key: [1, 2], tx_id: Some(5) }');
    assert.equal(kvActionDebug({ tag: 'Delete', key: new Uint8Array(), txId: undefined }), 'Delete { key: [], tx_id: None }');
  });

  it('issues caps in each era\'s shape', () => {
    assert.equal(capParams(0, 'read', key), '{"db":"d","kind":"read"}');
    assert.equal(capParams(1, 'write', key), `{"kind":"write","db_key":[${PKG},"d"]}`);
  });

  it('refuses db and package names with path characters', () => {
    assert.equal(dbDir('/h/kv', key), '/h/kv/p:pub.os/d');
    for (const db of ['', '.', '..', 'a/b', 'a\\b', '../x', 'a\0b']) assert.throws(() => dbDir('/h/kv', { ...key, db }), DbPathError, JSON.stringify(db));
    assert.throws(() => dbDir('/h/kv', { ...key, pkg: { packageName: '..', publisherNode: 'x' } }), DbPathError);
  });
});

describe('sqlite wire', () => {
  it('parses v0 Read and v1 Query, and Write with or without tx_id', () => {
    const r = (action: string, gen: 0 | 1) => parseSqliteRequest(b(`{"package_id":${PKG},"db":"d","action":${action}}`), gen).action;
    assert.deepEqual(r('{"Read":{"query":"SELECT 1"}}', 0), { tag: 'Query', query: 'SELECT 1' });
    assert.deepEqual(r('{"Query":"SELECT 1"}', 1), { tag: 'Query', query: 'SELECT 1' });
    assert.deepEqual(r('{"Write":{"statement":"X","tx_id":3}}', 0), { tag: 'Write', statement: 'X', txId: 3n });
    assert.throws(() => r('{"Query":"SELECT 1"}', 0));
    assert.throws(() => r('{"Read":{"query":"SELECT 1"}}', 1));
  });

  it('renders errors per era and v0 NoCap with Rust string escapes', () => {
    assert.equal(t(sqliteErrorBody({ kind: 'invalid-parameters' }, 0)), '{"Err":{"error":"InvalidParameters"}}');
    assert.equal(t(sqliteErrorBody({ kind: 'sql', text: 'no such table: x' }, 1)), '{"Err":{"RusqliteError":"no such table: x"}}');
    assert.equal(t(sqliteErrorBody({ kind: 'no-tx', txId: 2n ** 64n - 1n }, 1)), '{"Err":{"NoTx":18446744073709551615}}');
    assert.equal(sqliteActionDebug({ tag: 'Write', statement: 'INSERT "a"\n', txId: undefined }), 'Write { statement: "INSERT \\"a\\"\\n", tx_id: None }');
    assert.equal(rustDebugStr('é\u0007\u200b'), '"é\\u{7}\\u{200b}"');
  });
});

describe('sqlite parameters and rows', () => {
  it('converts JSON parameters as json_to_sqlite does', () => {
    assert.deepEqual(parseParams(b('[null,1,-1,1.5,-0,9223372036854775807,9223372036854775808,true,false,"hello world","AQID",""]')), [
      null, 1n, -1n, 1.5, -0, 9223372036854775807n, 9223372036854775808, 1n, 0n, 'hello world', Buffer.from([1, 2, 3]), Buffer.alloc(0),
    ]);
    assert.deepEqual(parseParams(undefined), []);
    for (const bad of ['{}', '[[1]]', '[{"a":1}]', 'nope', '[1e400]', '1']) assert.throws(() => parseParams(b(bad)), InvalidParameters, bad);
  });

  it('takes only canonical padded standard base64 as a blob', () => {
    assert.deepEqual(strictBase64('dGVzdA=='), Buffer.from('test'));
    assert.ok(strictBase64('test')); // valid base64: the runtime's quirk
    for (const s of ['abc', 'ab==', 'abc=x', 'YQ', 'a b=', 'dGVzdA', 'YR==', '-_-_']) assert.equal(strictBase64(s), undefined, s);
  });

  it('binds by index like rusqlite, whatever the parameter form', () => {
    assert.deepEqual(paramSlots("SELECT ?, '?', \"?\", [?], -- ?\n/* ? */ :a, ?5, :a, ?, $x, a$b").count, 7);
    assert.deepEqual(bindArgs(paramSlots('SELECT ?, ?'), [1n, 2n]), [1n, 2n]);
    assert.deepEqual(bindArgs(paramSlots('SELECT ?2, ?1'), [1n, 2n]), [{ 2: 2n, 1: 1n }]);
    assert.deepEqual(bindArgs(paramSlots('SELECT :a, ?, :a'), ['x', 'y']), ['y', { a: 'x' }]);
    assert.throws(() => bindArgs(paramSlots('SELECT ?'), []), (e: Error) => e instanceof ParamCountError && e.message === 'Wrong number of parameters passed to query. Got 0, needed 1');
    assert.throws(() => bindArgs(paramSlots('SELECT ?'), [1n, 2n, 3n]), /Got 2, needed 1/);
  });

  it('writes REAL as serde_json (ryu) does and rows with sorted keys', () => {
    const cases: Array<[number, string]> = [
      [1, '1.0'], [-2.5, '-2.5'], [0, '0.0'], [-0, '-0.0'], [1e15, '1000000000000000.0'], [1e16, '1e16'], [1.5e-7, '1.5e-7'],
      [0.0001, '0.0001'], [1e-5, '0.00001'], [1e-6, '1e-6'], [123456.789, '123456.789'], [1.2345678901234568e20, '1.2345678901234568e20'], [5e-324, '5e-324'],
    ];
    for (const [x, s] of cases) assert.equal(ryuF64(x), s, String(x));
    assert.equal(Buffer.from(rowsJson(['z', 'a', 'z'], [[1n, 'x', Buffer.from([255])], [null, 2.5, null]])).toString(), '[{"a":"x","z":"/w=="},{"a":2.5,"z":null}]');
  });
});
