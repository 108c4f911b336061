// vfs end to end, both generations, with components/storage doing what process_lib does:
// init_logging (drive + log file + one Append per event, v1's rotation), files surviving a node
// restart (and the caps CreateDrive granted), and process_lib's kv and sqlite sequences (run
// only where those modules are registered: they are built on another branch).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, cmd, makePackage, tempDir } from './helpers.js';
import { storageWasm, type Reply } from './storage-fixture.js';

const VFS = 'vfs:distro:sys';

async function storageNode(gen: 0 | 1, home: string, extraCaps: string[] = []): Promise<{ node: KinodeNode; app: string; pkg: string; lines: string[] }> {
  const name = gen === 0 ? 'logger-zero' : 'logger';
  const pkg = `${name}:test.os`;
  const dir = await makePackage({
    packageName: name,
    publisher: 'test.os',
    witVersion: gen,
    processes: [{ name: 'app', wasm: storageWasm(gen), onExit: 'Restart', requestCapabilities: [VFS, ...extraCaps], grantCapabilities: extraCaps }],
  });
  const lines: string[] = [];
  const node = await bootNode({ home, packages: [dir], verbosity: 0, print: (l) => lines.push(l) });
  const app = `fake.dev@app:${pkg}`;
  await node.waitForPrint(new RegExp(`storage ready ${app}`), 60000);
  return { node, app, pkg, lines };
}

interface Steps {
  path?: string;
  error?: string;
  steps: Reply[];
}

after(() => cleanupTempDirs());

for (const gen of [0, 1] as const) {
  describe(`vfs end to end (v${gen})`, () => {
    it('init_logging: CreateDrive log, OpenFile create, then one Append per event into /<pkg>/log/<process>.log', async () => {
      const home = tempDir('kh-vfs-log-');
      const { node, app, pkg } = await storageNode(gen, home);
      try {
        const init = await cmd<Steps>(node, app, { op: 'initLogging', fileLevel: 'DEBUG', terminalLevel: 'ERROR' });
        assert.equal(init.path, `/${pkg}/log/app.log`);
        assert.deepEqual(init.steps.map((s) => s.rawBody), ['"Ok"', '"Ok"']);
        for (const [level, message] of [['INFO', 'first'], ['DEBUG', 'second'], ['ERROR', 'third']]) {
          const r = await cmd<Steps>(node, app, { op: 'log', level, message });
          // v1 (process_lib 0.10.2+) asks for the file's Metadata before each Append
          assert.deepEqual(r.steps.map((s) => (s.reply && typeof s.reply === 'object' ? Object.keys(s.reply)[0] : s.reply)), gen === 0 ? ['Ok'] : ['Metadata', 'Ok']);
        }
        // the terminal gets the ERROR event at verbosity 0
        await node.waitForPrint(/ERROR src\/lib\.rs:1: third/);
        const file = join(home, 'vfs', pkg, 'log', 'app.log');
        const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { level: string; fields: { message: string }; timestamp: string });
        assert.deepEqual(lines.map((l) => [l.level, l.fields.message]), [['INFO', 'first'], ['DEBUG', 'second'], ['ERROR', 'third']]);
        assert.match(lines[0]!.timestamp, /^\d{4}-\d\d-\d\dT/);
        if (gen === 1) {
          // rotation: past max_log_file_size the file keeps its second half
          await cmd(node, app, { op: 'initLogging', maxLogFileSize: 300 });
          for (let i = 0; i < 8; i++) await cmd(node, app, { op: 'log', level: 'WARN', message: `rotating ${i} ${'x'.repeat(40)}` });
          const size = statSync(file).size;
          assert.ok(size < 600, `log file rotated (size ${size})`);
          const text = readFileSync(file, 'utf8');
          assert.match(text, /rotating 7/);
          assert.doesNotMatch(text, /"first"/);
        }
      } finally {
        await node.stop();
      }
    });

    it('files, drives and the caps CreateDrive granted survive a node restart', async () => {
      const home = tempDir('kh-vfs-restart-');
      const first = await storageNode(gen, home);
      const { app, pkg } = first;
      assert.equal((await cmd<Reply>(first.node, app, { op: 'createDrive', drive: 'data' })).rawBody, '"Ok"');
      assert.equal((await cmd<Reply>(first.node, app, { op: 'write', path: `/${pkg}/data/keep.txt`, data: 'still here' })).rawBody, '"Ok"');
      await first.node.stop();

      const lines: string[] = [];
      const node = await bootNode({ home, verbosity: 0, print: (l) => lines.push(l) });
      try {
        await node.waitForPrint(new RegExp(`storage ready ${app}`), 60000);
        const r = await cmd<Reply>(node, app, { op: 'read', path: `/${pkg}/data/keep.txt` });
        assert.equal(r.blob?.text, 'still here');
        const caps = await cmd<Array<{ issuer: string; params: string }>>(node, app, { op: 'ourCaps' });
        const drives = caps.filter((c) => c.issuer === `fake.dev@${VFS}`).map((c) => JSON.parse(c.params) as { kind?: string; drive?: string });
        assert.ok(drives.some((p) => p.kind === 'write' && p.drive === `/${pkg}/data`), JSON.stringify(drives));
        assert.ok(drives.some((p) => p.kind === 'read' && p.drive === `/${pkg}/data`), JSON.stringify(drives));
      } finally {
        await node.stop();
      }
    });

    it('the node keeps running after bad input: garbage bodies (fire-and-forget) and escapes in a burst', async () => {
      const home = tempDir('kh-vfs-bad-');
      const { node, app, pkg } = await storageNode(gen, home);
      try {
        const sends = [];
        for (let i = 0; i < 20; i++) {
          sends.push(cmd<Reply>(node, app, { op: 'vfsRaw', body: i % 2 ? '{"path":' : '[1,2,3]', expects: null }));
          sends.push(cmd<Reply>(node, app, { op: 'read', path: `/../../${i}` }));
        }
        await Promise.all(sends);
        await cmd(node, app, { op: 'write', path: `/${pkg}/tmp/ok.txt`, data: 'fine' });
        assert.equal((await cmd<Reply>(node, app, { op: 'read', path: `/${pkg}/tmp/ok.txt` })).blob?.text, 'fine');
      } finally {
        await node.stop();
      }
    });

    it('kv: process_lib sequence (open, set, get, delete, begin_tx, commit), data kept across a restart', async (t) => {
      const home = tempDir('kh-vfs-kv-');
      const { node, app, pkg } = await storageNode(gen, home, ['kv:distro:sys']);
      try {
        if (!node.module('kv:distro:sys')) return t.skip('kv:distro:sys is not registered on this branch');
        const { steps } = await cmd<{ steps: Array<Reply & { step: string }> }>(node, app, { op: 'kvSequence', db: 'items' });
        const by = Object.fromEntries(steps.map((s) => [s.step, s]));
        const key = (k: string) => JSON.stringify([...Buffer.from(JSON.stringify(k))]);
        const getBody = (k: string) => (gen === 0 ? `{"Get":{"key":${key(k)}}}` : `{"Get":${key(k)}}`);
        const notFound = gen === 0 ? '{"Err":{"error":"KeyNotFound"}}' : '{"Err":"KeyNotFound"}';
        assert.equal(by.open!.rawBody, '"Ok"');
        assert.equal(by.set!.rawBody, '"Ok"');
        assert.equal(by.get!.rawBody, getBody('foo'));
        assert.equal(by.get!.blob?.text, '{"n":1}');
        assert.equal(by.delete!.rawBody, '"Ok"');
        assert.equal(by.getMissing!.rawBody, notFound);
        assert.match(by.beginTx!.rawBody!, /^\{"BeginTx":\{"tx_id":\d+\}\}$/);
        assert.equal(by.getBeforeCommit!.rawBody, notFound);
        assert.equal(by.commit!.rawBody, '"Ok"');
        assert.equal(by.getAfterCommit!.blob?.text, '"in tx"');
        // a restart: the committed value is still there (the db lives under the home)
        await node.stop();
        const again = await bootNode({ home, verbosity: 0, print: () => {} });
        try {
          await again.waitForPrint(new RegExp(`storage ready ${app}`), 60000);
          const pkgId = { package_name: pkg.split(':')[0], publisher_node: pkg.split(':')[1] };
          const action = gen === 0 ? `{"Get":{"key":${key('bar')}}}` : `{"Get":${key('bar')}}`;
          const r = await cmd<Reply>(again, app, { op: 'await', target: 'kv:distro:sys', body: `{"package_id":${JSON.stringify(pkgId)},"db":"items","action":${action}}` });
          assert.equal(r.blob?.text, '"in tx"');
        } finally {
          await again.stop();
        }
      } finally {
        await node.stop();
      }
    });

    it('sqlite: process_lib sequence (open, write with params, begin_tx, commit, read with params, keyword gate), rows kept across a restart', async (t) => {
      const home = tempDir('kh-vfs-sql-');
      const { node, app, pkg } = await storageNode(gen, home, ['sqlite:distro:sys']);
      try {
        if (!node.module('sqlite:distro:sys')) return t.skip('sqlite:distro:sys is not registered on this branch');
        const { steps } = await cmd<{ steps: Array<Reply & { step: string }> }>(node, app, { op: 'sqliteSequence', db: 'items' });
        const by = Object.fromEntries(steps.map((s) => [s.step, s]));
        for (const s of ['open', 'create', 'insert', 'insertInTx', 'commit']) assert.equal(by[s]!.rawBody, '"Ok"', s);
        assert.equal(by.select!.rawBody, '"Read"');
        assert.deepEqual(JSON.parse(by.select!.blob!.text!), [{ name: 'alice', n: 1 }, { name: 'bob', n: 2 }]);
        assert.equal(by.badKeyword!.rawBody, gen === 0 ? '{"Err":{"error":"NotAReadKeyword"}}' : '{"Err":"NotAReadKeyword"}');
        // a restart: the rows are still there (the db lives under the home)
        await node.stop();
        const again = await bootNode({ home, verbosity: 0, print: () => {} });
        try {
          await again.waitForPrint(new RegExp(`storage ready ${app}`), 60000);
          const pkgId = { package_name: pkg.split(':')[0], publisher_node: pkg.split(':')[1] };
          const query = 'SELECT name FROM items ORDER BY id';
          const action = gen === 0 ? `{"Read":{"query":${JSON.stringify(query)}}}` : `{"Query":${JSON.stringify(query)}}`;
          const r = await cmd<Reply>(again, app, {
            op: 'await',
            target: 'sqlite:distro:sys',
            body: `{"package_id":${JSON.stringify(pkgId)},"db":"items","action":${action}}`,
            blob: { text: '[]' },
          });
          assert.equal(r.rawBody, '"Read"');
          assert.deepEqual(JSON.parse(r.blob!.text!), [{ name: 'alice' }, { name: 'bob' }]);
        } finally {
          await again.stop();
        }
      } finally {
        await node.stop();
      }
    });
  });
}
