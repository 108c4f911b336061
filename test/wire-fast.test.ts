// The in-place readers of kv, sqlite and vfs bodies (wire/db-fast.ts, wire/fast-scan.ts, the
// fast paths of wire/kv.ts, sqlite.ts, vfs.ts) against the strict reader: every body, in both eras, parses to what the strict reader gives for the same
// JSON spelled so that only the strict reader takes it (a space after the opening brace), or
// fails with the same error; the remembered envelope gives the same key object to the same db
// only; and kv's Get answer, now written byte by byte, is the text serde_json writes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kvGet, parseKvRequest } from '../host/wire/kv.js';
import { parseSqliteRequest } from '../host/wire/sqlite.js';
import { parseVfsRequest } from '../host/wire/vfs.js';
import type { Generation } from '../host/types.js';

const b = (s: string): Uint8Array => Buffer.from(s);
const env = (pkg: string, db: string, action: string): string =>
  `{"package_id":{"package_name":"${pkg}","publisher_node":"pub.os"},"db":"${db}","action":${action}}`;
/** the same JSON, which the in-place reader refuses: the strict reader's answer */
const slow = (s: string): Uint8Array => b(`{ ${s.slice(1)}`);

type Parse = (body: Uint8Array, gen: Generation) => unknown;

/** Both readers agree: same value (the key's memo text aside) or the same error. */
function same(parse: Parse, body: string, gen: Generation): void {
  let fast: unknown;
  let fastErr: unknown;
  try {
    fast = parse(b(body), gen);
  } catch (e) {
    fastErr = e;
  }
  let strict: unknown;
  let strictErr: unknown;
  try {
    strict = parse(slow(body), gen);
  } catch (e) {
    strictErr = e;
  }
  if (strictErr !== undefined || fastErr !== undefined) {
    assert.ok(fastErr && strictErr, `${body} (v${gen}): one reader failed, the other did not`);
    // the strict reader's copy is one byte longer (the space): positions differ by one
    const at = (e: unknown, shift: number) => (e as Error).message.replace(/ at (\d+)$/, (_, n: string) => ` at ${Number(n) + shift}`);
    assert.equal(at(fastErr, 1), at(strictErr, 0), body);
    return;
  }
  const plain = (v: unknown): unknown => {
    const r = v as { key: { pkg: unknown; db: string }; action: unknown };
    return { key: { pkg: r.key.pkg, db: r.key.db }, action: r.action };
  };
  assert.deepEqual(plain(fast), plain(strict), `${body} (v${gen})`);
}

const KV_ACTIONS = [
  '{"Get":[34,98,101,110,99,104,45,107,101,121,34]}',
  '{"Get":{"key":[34,98,0,255]}}',
  '{"Get":[]}',
  '{"Get":[256]}',
  '{"Get":[01]}',
  '{"Get":[1,]}',
  '{"Get":[-0]}',
  '{"Get":[1.0]}',
  '{"Get":[1000]}',
  '{"Get":[[1]]}',
  '{"Set":{"key":[1,2,3],"tx_id":null}}',
  '{"Set":{"key":[1,2,3]}}',
  '{"Set":{"key":[1],"tx_id":18446744073709551615}}',
  '{"Set":{"key":[1],"tx_id":18446744073709551616}}',
  '{"Set":{"key":[1],"tx_id":1e3}}',
  '{"Set":{"key":[1],"tx_id":007}}',
  '{"Delete":{"key":[9],"tx_id":5}}',
  '{"Delete":{"key":[9],"tx_id":null,"tx_id":null}}',
  '{"Set":{"key":[1],"tx_id":null},"x":1}',
  '"Open"',
  '"BeginTx"',
];

const SQL_ACTIONS = [
  '{"Query":"SELECT id, v FROM t WHERE id = ?"}',
  '{"Read":{"query":"SELECT 1"}}',
  '{"Query":"SELECT \\"x\\""}',
  '{"Query":"SELECT \'é\'"}',
  '{"Query":1}',
  '{"Write":{"statement":"INSERT INTO t (v) VALUES (?)","tx_id":null}}',
  '{"Write":{"statement":"INSERT INTO t (v) VALUES (?)"}}',
  '{"Write":{"statement":"DELETE FROM t","tx_id":42}}',
  '{"Write":{"statement":"DELETE FROM t","tx_id":-42}}',
  '{"Write":{"tx_id":null,"statement":"DELETE FROM t"}}',
  '"Open"',
];

describe('kv and sqlite bodies read in place', () => {
  it('kv: both readers agree on every action, in both eras', () => {
    for (const gen of [0, 1] as const) {
      for (const a of KV_ACTIONS) {
        same(parseKvRequest, env('app', 'db', a), gen);
        // a truncated body and one with trailing bytes fail the same way too
        same(parseKvRequest, env('app', 'db', a).slice(0, -1), gen);
        same(parseKvRequest, `${env('app', 'db', a)}x`, gen);
      }
    }
  });

  it('sqlite: both readers agree on every action, in both eras', () => {
    for (const gen of [0, 1] as const) {
      for (const a of SQL_ACTIONS) {
        same(parseSqliteRequest, env('app', 'db', a), gen);
        same(parseSqliteRequest, env('app', 'db', a).slice(0, -1), gen);
      }
    }
  });

  it('the spellings process_lib writes are the ones read in place', () => {
    const fast = (r: { key: { text?: string } }) => r.key.text !== undefined;
    assert.ok(fast(parseKvRequest(b(env('app', 'db', KV_ACTIONS[0]!)), 1)));
    assert.ok(fast(parseKvRequest(b(env('app', 'db', KV_ACTIONS[1]!)), 0)));
    assert.ok(fast(parseKvRequest(b(env('app', 'db', KV_ACTIONS[10]!)), 1)));
    assert.ok(fast(parseKvRequest(b(env('app', 'db', KV_ACTIONS[16]!)), 0)));
    assert.ok(fast(parseSqliteRequest(b(env('app', 'db', SQL_ACTIONS[0]!)), 1)));
    assert.ok(fast(parseSqliteRequest(b(env('app', 'db', SQL_ACTIONS[1]!)), 0)));
    assert.ok(fast(parseSqliteRequest(b(env('app', 'db', SQL_ACTIONS[5]!)), 1)));
    assert.ok(!fast(parseKvRequest(b(env('app', 'db', '"Open"')), 1)), 'other actions: the strict reader');
  });

  it('the remembered envelope names the same db only, whatever else was read since', () => {
    const get = (pkg: string, db: string) => parseKvRequest(b(env(pkg, db, '{"Get":[1]}')), 1).key;
    const a1 = get('app', 'one');
    for (let i = 0; i < 20; i++) get('app', `other-${i}`); // more dbs than are remembered
    const a2 = get('app', 'one');
    assert.deepEqual({ pkg: a2.pkg, db: a2.db }, { pkg: { packageName: 'app', publisherNode: 'pub.os' }, db: 'one' });
    assert.deepEqual({ pkg: a1.pkg, db: a1.db }, { pkg: a2.pkg, db: a2.db });
    const again = get('app', 'one');
    assert.equal(again, a2, 'a db named again gets the same key object');
    assert.notEqual(get('app', 'onf'), again);
    assert.equal(get('apq', 'one').pkg.packageName, 'apq');
    // a db name that shares the remembered bytes as a prefix is another db
    assert.equal(parseKvRequest(b(env('app', 'one"', '{"Get":[1]}').replace('one"', 'one\\"')), 1).key.db, 'one"');
  });

  it("kv Get's answer is the text serde_json writes, in both eras", () => {
    for (const key of [[], [0], [9, 10, 99, 100, 199, 255], [...Buffer.from('"bench-key"')]]) {
      const k = Uint8Array.from(key);
      assert.equal(Buffer.from(kvGet(k, 1)).toString(), `{"Get":${JSON.stringify(key)}}`);
      assert.equal(Buffer.from(kvGet(k, 0)).toString(), `{"Get":{"key":${JSON.stringify(key)}}}`);
    }
  });
});

describe('vfs bodies read in place', () => {
  it('both readers agree, in both eras', () => {
    const plain = (v: unknown) => v;
    const bodies = [
      '{"path":"/app:pub.os/tmp/file-4096.bin","action":"Write"}',
      '{"path":"/app:pub.os/tmp/file-4096.bin","action":"Read"}',
      '{"path":"/app:pub.os/tmp/x","action":"ReadDir"}',
      '{"path":"/app:pub.os/tmp/x","action":"OpenFile"}',
      '{"path":"/app:pub.os/tmp/x","action":"Nope"}',
      '{"path":"/app:pub.os/tmp/x","action":{"OpenFile":{"create":true}}}',
      '{"path":"/app:pub.os/tmp/\\u0041","action":"Read"}',
      '{"path":"/app:pub.os/tmp/x","action":"Read","path":"/y"}',
      '{"path":"/app:pub.os/tmp/x","action":"Read"}x',
      '{"path":"/app:pub.os/tmp/x","action":"Read"',
    ];
    for (const gen of [0, 1] as const) {
      for (const body of bodies) {
        let fast: unknown;
        let strict: unknown;
        let fastErr = '';
        let strictErr = '';
        try {
          fast = plain(parseVfsRequest(b(body), gen));
        } catch (e) {
          fastErr = (e as Error).message.replace(/ at \d+$/, '');
        }
        try {
          strict = plain(parseVfsRequest(slow(body), gen));
        } catch (e) {
          strictErr = (e as Error).message.replace(/ at \d+$/, '');
        }
        assert.equal(fastErr, strictErr, body);
        assert.deepEqual(fast, strict, body);
      }
    }
    // the common spelling is read in place: its path string is the same object each time
    const one = parseVfsRequest(b(bodies[0]!), 1);
    assert.equal(parseVfsRequest(b(bodies[0]!), 1).action, one.action);
  });
});
