// kv:distro:sys through a real node, both generations: probes send exactly what process_lib's
// kv helpers send (typed keys and values as JSON text bytes) and check the replies, the caps
// Open grants, transactions, persistence across a node restart, and every error variant.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, cmd, inboxUntil, tempDir } from './helpers.js';
import { bootDbNode, call, jsonBytes, PUB, type CallResult, type DbNode, type DbReply } from './kv-helpers.js';

const KV = 'our@kv:distro:sys';

function ok(r: CallResult): DbReply {
  assert.ok(r.ok, `expected a reply, got ${JSON.stringify(r)}`);
  return r.reply;
}

describe('kv:distro:sys through a node', () => {
  let n: DbNode;
  const home = tempDir('kh-kv-home-');

  before(async () => {
    n = await bootDbNode('kv:distro:sys', 'kvt', home);
  });
  after(async () => {
    await n?.node.stop();
    cleanupTempDirs();
  });

  for (const gen of [0, 1] as const) {
    const pkgId = () => ({ package_name: n.pkg(gen), publisher_node: PUB });
    const req = (db: string, action: unknown) => ({ package_id: pkgId(), db, action });
    const get = (key: number[]) => (gen === 0 ? { Get: { key } } : { Get: key });
    const kv = (who: string, db: string, action: unknown, blob?: { text?: string; b64?: string }) => call(n.node, who, KV, req(db, action), blob);
    const P = () => n.who(gen, 'probe');
    const err = (r: CallResult): unknown => {
      const body = ok(r).body as { Err?: unknown };
      assert.ok(body && 'Err' in body, `expected an error, got ${ok(r).text}`);
      return gen === 0 ? (body.Err as { error: unknown }).error : body.Err;
    };

    describe(`process-v${gen}`, () => {
      it('Open grants read and write; Set, Get and Delete with process_lib keys; replies come from kv with the value as blob', async () => {
        const open = ok(await kv(P(), 'main', 'Open'));
        assert.equal(open.text, '"Ok"');
        assert.equal(open.source, 'fake.dev@kv:distro:sys');
        const caps = await cmd<Array<{ issuer: string; params: string }>>(n.node, P(), { op: 'ourCaps' });
        const mine = caps.filter((c) => c.issuer === 'fake.dev@kv:distro:sys' && c.params !== '"messaging"').map((c) => JSON.parse(c.params) as unknown);
        const key = (kind: string) => (gen === 0 ? { kind, db: 'main' } : { kind, db_key: [pkgId(), 'main'] });
        assert.deepEqual(mine.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [key('read'), key('write')].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));

        const k = jsonBytes('foo'); // [34,102,111,111,34]: process_lib's key "foo"
        assert.deepEqual(k, [34, 102, 111, 111, 34]);
        assert.equal(ok(await kv(P(), 'main', { Set: { key: k, tx_id: null } }, { text: '{"n":1}' })).text, '"Ok"');
        const g = ok(await kv(P(), 'main', get(k)));
        assert.equal(g.text, gen === 0 ? '{"Get":{"key":[34,102,111,111,34]}}' : '{"Get":[34,102,111,111,34]}');
        assert.equal(g.blob?.toString(), '{"n":1}');
        assert.equal(g.mime, 'application/octet-stream');
        // binary keys and values, an empty value, and tx_id left out (serde reads a missing Option as None)
        assert.equal(ok(await kv(P(), 'main', { Set: { key: [0, 255, 1] } }, { b64: '' })).text, '"Ok"');
        assert.equal(ok(await kv(P(), 'main', get([0, 255, 1]))).blob?.length ?? 0, 0);
        assert.equal(ok(await kv(P(), 'main', { Delete: { key: k, tx_id: null } })).text, '"Ok"');
        assert.equal(err(await kv(P(), 'main', get(k))), 'KeyNotFound');
      });

      it('echoes the request metadata on success and sends none with an error', async () => {
        const k = jsonBytes('meta');
        await cmd(n.node, P(), { op: 'send', target: KV, body: JSON.stringify(req('main', { Set: { key: k, tx_id: null } })), expects: 5, metadata: '{"m":7}', blob: { text: '1' } });
        await cmd(n.node, P(), { op: 'send', target: KV, body: JSON.stringify(req('main', get(jsonBytes('absent')))), expects: 5, metadata: 'x' });
        const inbox = await inboxUntil(n.node, P(), (all) => all.filter((e) => e.kind === 'response').length >= 2);
        const [okR, errR] = inbox.filter((e) => e.kind === 'response') as Array<(typeof inbox)[number] & { metadata: string | null }>;
        assert.equal(okR!.body, '"Ok"');
        assert.equal(okR!.metadata, '{"m":7}');
        assert.match(errR!.body, /KeyNotFound/);
        assert.equal(errR!.metadata, null);
      });

      it('a transaction applies on Commit; one never committed leaves nothing', async () => {
        const raw = ok(await kv(P(), 'main', 'BeginTx')).text;
        assert.match(raw, /^\{"BeginTx":\{"tx_id":\d+\}\}$/);
        const tx = BigInt(/\d+/.exec(raw)![0]);
        const t1 = jsonBytes('t1');
        const t2 = jsonBytes('t2');
        await kv(P(), 'main', { Set: { key: t2, tx_id: null } }, { text: 'before' });
        // the tx id is a u64: send it as the exact number text
        const body = (action: string) => `{"package_id":${JSON.stringify(pkgId())},"db":"main","action":${action}}`;
        assert.equal(ok(await call(n.node, P(), KV, body(`{"Set":{"key":${JSON.stringify(t1)},"tx_id":${tx}}}`), { text: 'in tx' })).text, '"Ok"');
        assert.equal(ok(await call(n.node, P(), KV, body(`{"Delete":{"key":${JSON.stringify(t2)},"tx_id":${tx}}}`))).text, '"Ok"');
        assert.equal(err(await kv(P(), 'main', get(t1))), 'KeyNotFound', 'not visible before Commit');
        assert.equal(ok(await kv(P(), 'main', get(t2))).blob?.toString(), 'before');
        assert.equal(ok(await call(n.node, P(), KV, body(`{"Commit":{"tx_id":${tx}}}`))).text, '"Ok"');
        assert.equal(ok(await kv(P(), 'main', get(t1))).blob?.toString(), 'in tx');
        assert.equal(err(await kv(P(), 'main', get(t2))), 'KeyNotFound');
        // committed once: the id is gone
        const again = ok(await call(n.node, P(), KV, body(`{"Commit":{"tx_id":${tx}}}`))).text;
        assert.equal(again, gen === 0 ? '{"Err":{"error":"NoTx"}}' : `{"Err":{"NoTx":${tx}}}`); // the u64 exactly
        // a transaction that is never committed
        const open = /\d+/.exec(ok(await kv(P(), 'main', 'BeginTx')).text)![0];
        await call(n.node, P(), KV, body(`{"Set":{"key":${JSON.stringify(jsonBytes('never'))},"tx_id":${open}}}`), { text: 'x' });
        assert.equal(err(await kv(P(), 'main', get(jsonBytes('never')))), 'KeyNotFound');
        await kv(P(), 'main', { Set: { key: jsonBytes('kept'), tx_id: null } }, { text: 'kept value' });
      });

      it('error variants: malformed body, unknown action, missing field, Set without blob, bad tx id, bad db name', async () => {
        const malformed = gen === 0 ? { InputError: { error: "didn't serialize to KvAction." } } : 'MalformedRequest';
        assert.deepEqual(err(await call(n.node, P(), KV, 'not json')), malformed);
        assert.deepEqual(err(await kv(P(), 'main', { Frobnicate: null })), malformed);
        assert.deepEqual(err(await call(n.node, P(), KV, { package_id: pkgId(), action: 'Open' })), malformed, 'missing db');
        // the other era's Get shape is malformed in this era
        assert.deepEqual(err(await kv(P(), 'main', gen === 0 ? { Get: [1] } : { Get: { key: [1] } })), malformed);
        // Backup exists in v0 only
        if (gen === 0) assert.equal(ok(await kv(P(), 'main', 'Backup')).text, '"Ok"');
        else assert.deepEqual(err(await kv(P(), 'main', 'Backup')), malformed);
        assert.deepEqual(err(await kv(P(), 'main', { Set: { key: [1], tx_id: null } })), gen === 0 ? { InputError: { error: 'no blob' } } : 'MalformedRequest');
        assert.deepEqual(err(await kv(P(), 'main', { Set: { key: [1], tx_id: 12345 } }, { text: 'v' })), gen === 0 ? 'NoTx' : { NoTx: 12345 });
        assert.deepEqual(err(await kv(P(), 'main', { Commit: { tx_id: 12345 } })), gen === 0 ? 'NoTx' : { NoTx: 12345 });
        for (const bad of ['../escape', 'a/b', '..', '']) {
          const e = err(await kv(P(), bad, 'Open')) as Record<string, unknown>;
          const text = gen === 0 ? (e.IOError as { error: string }).error : (e.IOError as string);
          assert.match(text, /invalid db name/, JSON.stringify(e));
        }
        assert.ok(!existsSync(join(home, 'kv', 'escape')));
        // RemoveDb of a db that was never created fails like the runtime's remove_dir_all
        const rm = err(await kv(P(), 'never-made', 'RemoveDb')) as Record<string, unknown>;
        assert.match(JSON.stringify(rm), /IOError.*No such file or directory/);
      });

      it('caps: another process of the package must Open first; another package cannot Open and needs caps shared with it', async () => {
        const other = n.who(gen, 'other');
        const k = jsonBytes('kept');
        const noRead = gen === 0 ? { NoCap: { error: `Get { key: [${k.join(', ')}] }` } } : 'NoReadCap';
        const noWrite = gen === 0 ? { NoCap: { error: `Set { key: [${k.join(', ')}], tx_id: None }` } } : 'NoWriteCap';
        assert.deepEqual(err(await kv(other, 'main', get(k))), noRead);
        assert.deepEqual(err(await kv(other, 'main', { Set: { key: k, tx_id: null } }, { text: 'x' })), noWrite);
        assert.deepEqual(err(await kv(other, 'main', 'BeginTx')), gen === 0 ? { NoCap: { error: 'BeginTx' } } : 'NoWriteCap');
        assert.equal(ok(await kv(other, 'main', 'Open')).text, '"Ok"');
        assert.equal(ok(await kv(other, 'main', get(k))).blob?.toString(), 'kept value');

        const peer = n.peer(gen);
        assert.deepEqual(err(await kv(peer, 'main', 'Open')), gen === 0 ? { NoCap: { error: 'Open' } } : 'MismatchingPackageId');
        assert.deepEqual(err(await kv(peer, 'main', 'RemoveDb')), gen === 0 ? { NoCap: { error: 'RemoveDb' } } : 'MismatchingPackageId');
        assert.deepEqual(err(await kv(peer, 'main', get(k))), noRead);
        // the owner shares its read cap with the peer (attached to a message), which saves it
        const caps = (await cmd<Array<{ issuer: string; params: string }>>(n.node, P(), { op: 'ourCaps' })).filter(
          (c) => c.issuer === 'fake.dev@kv:distro:sys' && JSON.parse(c.params).kind === 'read' && c.params.includes('"main"'),
        );
        assert.equal(caps.length, 1);
        await cmd(n.node, P(), { op: 'send', target: peer, body: 'here is a cap', caps });
        const got = await inboxUntil(n.node, peer, (all) => all.some((e) => e.body === 'here is a cap'));
        const shared = got.find((e) => e.body === 'here is a cap')!.caps;
        assert.equal(shared.length, 1);
        await cmd(n.node, peer, { op: 'saveCaps', caps: shared });
        assert.equal(ok(await kv(peer, 'main', get(k))).blob?.toString(), 'kept value');
        assert.deepEqual(err(await kv(peer, 'main', { Delete: { key: k, tx_id: null } })), gen === 0 ? { NoCap: { error: `Delete { key: [${k.join(', ')}], tx_id: None }` } } : 'NoWriteCap');
      });

      it(gen === 0 ? 'v0 caps name no package: a cap on db "shared" of its own package opens the owner\'s "shared" too' : 'v1 caps name the package: a cap on db "shared" of its own package does not open the owner\'s', async () => {
        const k = jsonBytes('s');
        await kv(P(), 'shared', 'Open');
        await kv(P(), 'shared', { Set: { key: k, tx_id: null } }, { text: 'owner data' });
        const peer = n.peer(gen);
        const peerPkg = { package_name: `${n.pkg(gen).replace(/\d$/, '')}peer${gen}`, publisher_node: PUB };
        assert.equal(ok(await call(n.node, peer, KV, { package_id: peerPkg, db: 'shared', action: 'Open' })).text, '"Ok"');
        const r = await kv(peer, 'shared', get(k));
        if (gen === 0) assert.equal(ok(r).blob?.toString(), 'owner data');
        else assert.equal(err(r), 'NoReadCap');
      });

      it('without the messaging cap the request is dropped; without granting kv messaging the reply is dropped', async () => {
        const noCap = await kv(n.who(gen, 'nocap'), 'main', 'Open');
        assert.deepEqual(noCap, { ok: false, errorKind: 'timeout' });
        const noGrant = await call(n.node, n.who(gen, 'nogrant'), KV, req('main', 'Open'), undefined, 2);
        assert.deepEqual(noGrant, { ok: false, errorKind: 'timeout' });
        // the node keeps running
        assert.equal(ok(await kv(P(), 'main', get(jsonBytes('kept')))).blob?.toString(), 'kept value');
      });
    });
  }

  it('a restarted node finds the data, the caps Open granted, and no trace of uncommitted transactions', async () => {
    await n.node.stop();
    n = await bootDbNode('kv:distro:sys', 'kvt', home, false);
    for (const gen of [0, 1] as const) {
      const pkgId = { package_name: n.pkg(gen), publisher_node: PUB };
      const get = (key: number[]) => (gen === 0 ? { Get: { key } } : { Get: key });
      const P = n.who(gen, 'probe');
      // no Open after the restart: the caps were kept with the process
      const r = ok(await call(n.node, P, KV, { package_id: pkgId, db: 'main', action: get(jsonBytes('kept')) }));
      assert.equal(r.blob?.toString(), 'kept value');
      assert.equal(ok(await call(n.node, P, KV, { package_id: pkgId, db: 'main', action: get(jsonBytes('t1')) })).blob?.toString(), 'in tx');
      const never = ok(await call(n.node, P, KV, { package_id: pkgId, db: 'main', action: get(jsonBytes('never')) }));
      assert.match(never.text, /KeyNotFound/);
      assert.ok(existsSync(join(home, 'kv', `${n.pkg(gen)}:${PUB}`, 'main')));
    }
  });

  it('RemoveDb deletes the data (and, as in the runtime, leaves an empty db)', async () => {
    const gen = 1;
    const pkgId = { package_name: n.pkg(gen), publisher_node: PUB };
    const P = n.who(gen, 'probe');
    assert.equal(ok(await call(n.node, P, KV, { package_id: pkgId, db: 'main', action: 'RemoveDb' })).text, '"Ok"');
    const r = ok(await call(n.node, P, KV, { package_id: pkgId, db: 'main', action: { Get: jsonBytes('kept') } }));
    assert.equal(r.text, '{"Err":"KeyNotFound"}');
  });
});
