// vfs:distro:sys on the wire, both generations: every action's exact reply JSON (and blob),
// every error variant, path rules and capabilities, as a real process (components/storage,
// which sends process_lib's exact requests) sees them through a real node.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yazl from 'yazl';
import type { KinodeNode } from '../host/node.js';
import { bootNode, cleanupTempDirs, cmd, makePackage, tempDir } from './helpers.js';
import { storageWasm, type Reply } from './storage-fixture.js';

const VFS = 'vfs:distro:sys';

function zipOf(entries: Array<[string, string | null]>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, content] of entries) {
    if (content === null) z.addEmptyDirectory(name);
    else z.addBuffer(Buffer.from(content), name);
  }
  z.end();
  const chunks: Buffer[] = [];
  return new Promise((res, rej) => {
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => res(Buffer.concat(chunks)));
    z.outputStream.on('error', rej);
  });
}

for (const gen of [0, 1] as const) {
  describe(`vfs wire (v${gen})`, () => {
    const suffix = gen === 0 ? '-zero' : '';
    const mine = `storage${suffix}:test.os`;
    const other = `other${suffix}:test.os`;
    const app = `fake.dev@app:${mine}`;
    const at = (name: string): string => `fake.dev@${name}:${other}`;
    let node: KinodeNode;
    let home: string;
    const v = (target: string, command: Record<string, unknown>): Promise<Reply> => cmd<Reply>(node, target, command);
    const on = (command: Record<string, unknown>): Promise<Reply> => v(app, command);

    before(async () => {
      home = tempDir('kh-vfsw-');
      const a = await makePackage({
        packageName: `storage${suffix}`,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          { name: 'app', wasm: storageWasm(gen), requestCapabilities: [VFS] },
          { name: 'nocap', wasm: storageWasm(gen) },
        ],
        files: { 'notes.txt': 'package file\n' },
      });
      const b = await makePackage({
        packageName: `other${suffix}`,
        publisher: 'test.os',
        witVersion: gen,
        processes: [
          { name: 'plain', wasm: storageWasm(gen), requestCapabilities: [VFS] },
          {
            name: 'reader',
            wasm: storageWasm(gen),
            requestCapabilities: [VFS, { process: VFS, params: { kind: 'read', drive: `/${mine}/data` } }],
          },
          {
            name: 'writer',
            wasm: storageWasm(gen),
            requestCapabilities: [VFS, { process: VFS, params: { kind: 'write', drive: `/${mine}/data` } }],
          },
          { name: 'root', wasm: storageWasm(gen), requestCapabilities: [VFS, { process: VFS, params: { root: true } }] },
        ],
      });
      node = await bootNode({ home, packages: [a, b] });
      for (const p of [app, at('plain'), at('reader'), at('writer'), at('root')]) await node.waitForPrint(new RegExp(`storage ready ${p}`), 60000);
      assert.deepEqual((await on({ op: 'createDrive', drive: 'data' })).reply, 'Ok');
    });
    after(async () => {
      await node?.stop();
      cleanupTempDirs();
    });

    it('CreateDrive answers Ok, makes the directory and grants the caller read+write on it', async () => {
      const r = await on({ op: 'createDrive', drive: 'made' });
      assert.deepEqual(r, { path: `/${mine}/made`, reply: 'Ok', rawBody: '"Ok"', metadata: null, blob: null });
      assert.ok(existsSync(join(home, 'vfs', mine, 'made')));
      const caps = await cmd<Array<{ issuer: string; params: string }>>(node, app, { op: 'ourCaps' });
      const drives = caps.filter((c) => c.issuer === `fake.dev@${VFS}`).map((c) => JSON.parse(c.params));
      for (const kind of ['read', 'write']) assert.ok(drives.some((p) => p.kind === kind && p.drive === `/${mine}/made`), `${kind} cap on the new drive`);
    });

    it('Write, Read (blob application/octet-stream), metadata echoed on success', async () => {
      const path = `/${mine}/data/a.txt`;
      assert.equal((await on({ op: 'write', path, data: 'hello vfs' })).rawBody, '"Ok"');
      const r = await on({ op: 'read', path });
      assert.equal(r.rawBody, '"Read"');
      assert.deepEqual(r.blob, { mime: 'application/octet-stream', text: 'hello vfs', b64: Buffer.from('hello vfs').toString('base64') });
      const m = await on({ op: 'vfs', path, action: 'Metadata', metadata: '{"tag":42}' });
      assert.equal(m.rawBody, '{"Metadata":{"file_type":"File","len":9}}');
      assert.equal(m.metadata, '{"tag":42}');
      assert.equal(m.blob, null);
    });

    it('cursors: OpenFile, WriteAll, Seek (era shape), ReadExact, ReadToEnd, ReadToString, Append, Len, SetLen, Hash', async () => {
      const path = `/${mine}/data/cur.txt`;
      assert.equal((await on({ op: 'openFile', path, create: true })).rawBody, '"Ok"');
      assert.equal((await on({ op: 'writeAll', path, data: 'abcdef' })).rawBody, '"Ok"');
      assert.equal((await on({ op: 'writeAll', path, data: 'gh' })).rawBody, '"Ok"'); // at the cursor: abcdefgh
      const seek = await on({ op: 'seek', path, from: { Start: 2 } });
      assert.equal(seek.rawBody, gen === 0 ? '{"SeekFrom":2}' : '{"SeekFrom":{"new_offset":2}}');
      const ex = await on({ op: 'readExact', path, length: 3 });
      assert.equal(ex.rawBody, '"Read"');
      assert.equal(ex.blob?.text, 'cde');
      assert.equal((await on({ op: 'readToEnd', path })).blob?.text, 'fgh');
      assert.equal((await on({ op: 'seek', path, from: { End: -3 } })).rawBody, gen === 0 ? '{"SeekFrom":5}' : '{"SeekFrom":{"new_offset":5}}');
      assert.equal((await on({ op: 'seek', path, from: { Current: 1 } })).rawBody, gen === 0 ? '{"SeekFrom":6}' : '{"SeekFrom":{"new_offset":6}}');
      assert.equal((await on({ op: 'readToString', path })).rawBody, '{"ReadToString":"gh"}');
      assert.equal((await on({ op: 'append', path, data: '!' })).rawBody, '"Ok"');
      assert.equal((await on({ op: 'len', path })).rawBody, '{"Len":9}');
      // OpenFile resets the cursor to 0
      assert.equal((await on({ op: 'openFile', path, create: false })).rawBody, '"Ok"');
      assert.equal((await on({ op: 'readToString', path })).rawBody, '{"ReadToString":"abcdefgh!"}');
      assert.equal((await on({ op: 'setLen', path, len: 4 })).rawBody, '"Ok"');
      const digest = [...createHash('sha256').update('abcd').digest()];
      assert.equal((await on({ op: 'hash', path })).rawBody, `{"Hash":[${digest.join(',')}]}`);
      assert.equal((await on({ op: 'syncAll', path })).rawBody, '"Ok"');
      assert.equal((await on({ op: 'closeFile', path, await: true })).rawBody, '"Ok"');
    });

    it('ReadDir lists entries relative to the vfs root, without a leading slash', async () => {
      await on({ op: 'createDirAll', path: `/${mine}/data/tree/sub` });
      await on({ op: 'write', path: `/${mine}/data/tree/one.txt`, data: '1' });
      const r = await on({ op: 'readDir', path: `${mine}/data/tree` }); // no leading slash, as serve_ui sends it
      const body = r.reply as { ReadDir: Array<{ path: string; file_type: string }> };
      const entries = [...body.ReadDir].sort((x, y) => x.path.localeCompare(y.path));
      assert.deepEqual(entries, [
        { path: `${mine}/data/tree/one.txt`, file_type: 'File' },
        { path: `${mine}/data/tree/sub`, file_type: 'Directory' },
      ]);
      assert.match(r.rawBody!, /^\{"ReadDir":\[\{"path":"[^"]+","file_type":"(File|Directory)"\},\{"path":/);
      const m = await on({ op: 'metadata', path: `/${mine}/data/tree/sub` });
      assert.match(m.rawBody!, /^\{"Metadata":\{"file_type":"Directory","len":\d+\}\}$/);
    });

    it('Rename, CopyFile, RemoveFile, CreateDir, RemoveDir, RemoveDirAll', async () => {
      const d = `/${mine}/data`;
      await on({ op: 'write', path: `${d}/r1.txt`, data: 'move me' });
      assert.equal((await on({ op: 'rename', path: `${d}/r1.txt`, newPath: `${d}/r2.txt` })).rawBody, '"Ok"');
      assert.equal((await on({ op: 'copyFile', path: `${d}/r2.txt`, newPath: `${d}/r3.txt` })).rawBody, '"Ok"');
      assert.equal(readFileSync(join(home, 'vfs', mine, 'data', 'r3.txt'), 'utf8'), 'move me');
      assert.equal(existsSync(join(home, 'vfs', mine, 'data', 'r1.txt')), false);
      assert.equal((await on({ op: 'removeFile', path: `${d}/r2.txt` })).rawBody, '"Ok"');
      assert.equal(existsSync(join(home, 'vfs', mine, 'data', 'r2.txt')), false);
      assert.equal((await on({ op: 'createDir', path: `${d}/empty` })).rawBody, '"Ok"');
      assert.equal((await on({ op: 'removeDir', path: `${d}/empty` })).rawBody, '"Ok"');
      await on({ op: 'createDirAll', path: `${d}/full/x/y` });
      await on({ op: 'write', path: `${d}/full/x/y/z.txt`, data: 'z' });
      assert.equal((await on({ op: 'removeDirAll', path: `${d}/full` })).rawBody, '"Ok"');
      assert.equal(existsSync(join(home, 'vfs', mine, 'data', 'full')), false);
    });

    it('AddZip unpacks directories and files in archive order', async () => {
      const zip = await zipOf([
        ['site/', null],
        ['site/index.html', '<h1>zip</h1>'],
        ['site/css/', null],
        ['site/css/a.css', 'body{}'],
        ['top.txt', 'top'],
      ]);
      const r = await on({ op: 'addZip', path: `/${mine}/data/unzipped`, data: { b64: zip.toString('base64') } });
      assert.equal(r.rawBody, '"Ok"');
      const base = join(home, 'vfs', mine, 'data', 'unzipped');
      assert.equal(readFileSync(join(base, 'site', 'index.html'), 'utf8'), '<h1>zip</h1>');
      assert.equal(readFileSync(join(base, 'site', 'css', 'a.css'), 'utf8'), 'body{}');
      assert.equal(readFileSync(join(base, 'top.txt'), 'utf8'), 'top');
      const bad = await on({ op: 'addZip', path: `/${mine}/data/unzipped`, data: 'not a zip' });
      assert.deepEqual(bad.reply, {
        Err: { ParseError: { error: 'invalid Zip archive: Could not find central directory end', path: base } },
      });
      const noParent = await on({ op: 'addZip', path: `/${mine}/data/unzipped2`, data: { b64: (await zipOf([['deep/file.txt', 'x']])).toString('base64') } });
      assert.deepEqual(
        noParent.reply,
        gen === 0 ? { Err: { IOError: { error: 'No such file or directory (os error 2)', path: '' } } } : { Err: { IOError: 'No such file or directory (os error 2)' } },
      );
    });

    it('a sender\'s requests are answered in order: a Read right behind a fire-and-forget AddZip sees its files', async () => {
      const zip = await zipOf([['later.txt', 'unzipped first']]);
      await on({ op: 'vfs', path: `/${mine}/data/ordered`, action: 'AddZip', blob: { b64: zip.toString('base64') }, expects: null });
      assert.equal((await on({ op: 'read', path: `/${mine}/data/ordered/later.txt` })).blob?.text, 'unzipped first');
    });

    it('cursors are per path and shared by every process touching the file', async () => {
      const path = `/${mine}/data/shared.txt`;
      await on({ op: 'write', path, data: '0123456789' });
      await on({ op: 'openFile', path, create: false });
      await on({ op: 'seek', path, from: { Start: 6 } });
      // another package's process with the root cap reads on from the same cursor
      assert.equal((await v(at('root'), { op: 'readToEnd', path })).blob?.text, '6789');
      // CloseFile forgets it: the next ReadToEnd starts at 0
      await on({ op: 'closeFile', path, await: true });
      assert.equal((await on({ op: 'readToEnd', path })).blob?.text, '0123456789');
    });

    it('`..` is resolved inside the path; escaping the vfs root is refused', async () => {
      await on({ op: 'write', path: `/${mine}/data/dots.txt`, data: 'dots' });
      assert.equal((await on({ op: 'read', path: `/${mine}/data/sub/../dots.txt` })).blob?.text, 'dots');
      assert.equal((await on({ op: 'read', path: `//${mine}/./data//dots.txt` })).blob?.text, 'dots');
      const esc = await on({ op: 'read', path: '/../outside.txt' });
      assert.deepEqual(
        esc.reply,
        gen === 0 ? { Err: { BadRequest: { error: 'input path tries to escape parent vfs directory: /../outside.txt' } } } : { Err: 'MalformedRequest' },
      );
      const esc2 = await on({ op: 'read', path: `/${mine}/data/../../../../etc/passwd` });
      assert.deepEqual(esc2.reply, gen === 0 ? { Err: { BadRequest: { error: `input path tries to escape parent vfs directory: /${mine}/data/../../../../etc/passwd` } } } : { Err: 'MalformedRequest' });
    });

    it('bad paths: too few segments, bad package segment, "/" for anything but ReadDir', async () => {
      const cases: Array<[string, string, string]> = [
        [`/${mine}`, 'malformed path', mine],
        ['/', 'malformed path', ''],
        ['/nocolon/drive/x', 'Missing field', 'nocolon/drive/x'],
        ['/a:b:c/drive/x', 'Too many colons', 'a:b:c/drive/x'],
        ['/:pub/drive/x', 'Missing field', ':pub/drive/x'],
      ];
      for (const [path, error, reported] of cases) {
        const r = await on({ op: 'read', path });
        assert.deepEqual(r.reply, gen === 0 ? { Err: { ParseError: { error, path: reported } } } : { Err: 'MalformedRequest' }, path);
      }
    });

    it('malformed bodies and unknown actions', async () => {
      for (const body of ['not json', '{"path":"/a:b/c"}', '{"path":"/a:b/c","action":"Explode"}', '{"path":"/a:b/c","action":{"ReadExact":"x"}}']) {
        const r = await on({ op: 'vfsRaw', body });
        if (gen === 1) assert.deepEqual(r.reply, { Err: 'MalformedRequest' }, body);
        else {
          const e = (r.reply as { Err: { BadJson: { error: string } } }).Err.BadJson;
          assert.equal(Object.keys((r.reply as { Err: object }).Err).join(), 'BadJson', body);
          assert.equal(typeof e.error, 'string');
        }
      }
      // the other era's shapes are malformed for this era
      const wrong = gen === 0 ? { ReadExact: { length: 1 } } : { ReadExact: 1 };
      const r = await on({ op: 'vfs', path: `/${mine}/data/a.txt`, action: wrong });
      if (gen === 1) assert.deepEqual(r.reply, { Err: 'MalformedRequest' });
      else assert.ok('BadJson' in (r.reply as { Err: object }).Err);
    });

    it('missing blob, missing file, early eof, non-UTF-8 text, directory errors', async () => {
      const d = `/${mine}/data`;
      for (const action of ['Write', 'WriteAll', 'Append', 'AddZip']) {
        const r = await on({ op: 'vfs', path: `${d}/a.txt`, action });
        assert.deepEqual(r.reply, gen === 0 ? { Err: { BadRequest: { error: `blob needs to exist for ${action}` } } } : { Err: 'NoBlob' }, action);
      }
      const io = (error: string, path = ''): unknown => (gen === 0 ? { Err: { IOError: { error, path } } } : { Err: { IOError: error } });
      assert.deepEqual((await on({ op: 'read', path: `${d}/missing.txt` })).reply, io('No such file or directory (os error 2)'));
      assert.deepEqual((await on({ op: 'metadata', path: `${d}/missing.txt` })).reply, io('No such file or directory (os error 2)', `${d}/missing.txt`));
      assert.deepEqual((await on({ op: 'openFile', path: `${d}/missing.txt`, create: false })).reply, io('No such file or directory (os error 2)'));
      await on({ op: 'write', path: `${d}/short.txt`, data: 'ab' });
      await on({ op: 'openFile', path: `${d}/short.txt`, create: false });
      assert.deepEqual((await on({ op: 'readExact', path: `${d}/short.txt`, length: 5 })).reply, io('early eof'));
      await on({ op: 'write', path: `${d}/bin.dat`, data: { b64: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') } });
      await on({ op: 'openFile', path: `${d}/bin.dat`, create: false });
      assert.deepEqual((await on({ op: 'readToString', path: `${d}/bin.dat` })).reply, io('stream did not contain valid UTF-8'));
      assert.deepEqual((await on({ op: 'createDir', path: `${d}/tree` })).reply, io('File exists (os error 17)'));
      assert.deepEqual((await on({ op: 'removeDir', path: `${d}/tree` })).reply, io('Directory not empty (os error 39)'));
      assert.deepEqual((await on({ op: 'read', path: `${d}/tree` })).reply, io('Is a directory (os error 21)'));
      assert.deepEqual((await on({ op: 'rename', path: `${d}/missing.txt`, newPath: `${d}/x.txt` })).reply, io('No such file or directory (os error 2)', `${d}/missing.txt`));
    });

    it('another package: no cap -> NoCap / NoReadCap / NoWriteCap; read and write caps are separate', async () => {
      const file = `/${mine}/data/a.txt`;
      const noRead = gen === 0 ? { Err: { NoCap: { action: 'Read', path: file } } } : { Err: 'NoReadCap' };
      const noWrite = (action: string, path = file): unknown => (gen === 0 ? { Err: { NoCap: { action, path } } } : { Err: 'NoWriteCap' });
      assert.deepEqual((await v(at('plain'), { op: 'read', path: file })).reply, noRead);
      assert.deepEqual((await v(at('plain'), { op: 'write', path: file, data: 'x' })).reply, noWrite('Write'));
      assert.deepEqual((await v(at('plain'), { op: 'openFile', path: file, create: true })).reply, noWrite('OpenFile { create: true }'));
      assert.deepEqual((await v(at('plain'), { op: 'readExact', path: file, length: 2 })).reply, gen === 0 ? { Err: { NoCap: { action: 'ReadExact(2)', path: file } } } : { Err: 'NoReadCap' });
      assert.deepEqual((await v(at('plain'), { op: 'seek', path: file, from: { Start: 1 } })).reply, gen === 0 ? { Err: { NoCap: { action: 'Seek { seek_from: Start(1) }', path: file } } } : { Err: 'NoReadCap' });
      assert.deepEqual((await v(at('plain'), { op: 'createDrive', drive: 'x', package: mine })).reply, noWrite('CreateDrive', `/${mine}/x`));
      // `..` does not help: the cap check sees the normalized path
      const sneaky = `/${other}/data/../../${mine}/data/a.txt`;
      assert.deepEqual((await v(at('plain'), { op: 'read', path: sneaky })).reply, gen === 0 ? { Err: { NoCap: { action: 'Read', path: sneaky } } } : { Err: 'NoReadCap' });
      // a read cap reads but does not write; a write cap writes but does not read
      assert.equal((await v(at('reader'), { op: 'read', path: file })).blob?.text, 'hello vfs');
      assert.deepEqual((await v(at('reader'), { op: 'write', path: file, data: 'x' })).reply, noWrite('Write'));
      assert.equal((await v(at('writer'), { op: 'write', path: `/${mine}/data/by-writer.txt`, data: 'w' })).rawBody, '"Ok"');
      assert.deepEqual((await v(at('writer'), { op: 'read', path: file })).reply, noRead);
      // Rename/CopyFile: write on the source drive and on a different target drive
      const copy = await v(at('writer'), { op: 'copyFile', path: `/${mine}/data/by-writer.txt`, newPath: `/${mine}/made/x.txt` });
      assert.deepEqual(copy.reply, noWrite(`CopyFile { new_path: "/${mine}/made/x.txt" }`, `/${mine}/data/by-writer.txt`));
      assert.equal((await v(at('writer'), { op: 'copyFile', path: `/${mine}/data/by-writer.txt`, newPath: `/${mine}/data/copy.txt` })).rawBody, '"Ok"');
      // the process's own package needs no cap at all
      await v(at('plain'), { op: 'createDirAll', path: `/${other}/anydrive` });
      assert.equal((await v(at('plain'), { op: 'write', path: `/${other}/anydrive/x.txt`, data: 'own' })).rawBody, '"Ok"');
      assert.equal((await v(at('plain'), { op: 'read', path: `/${other}/anydrive/x.txt` })).blob?.text, 'own');
    });

    it('root cap: ReadDir "/" and any drive; without it ReadDir "/" is refused', async () => {
      const r = await v(at('root'), { op: 'readDir', path: '/' });
      const names = (r.reply as { ReadDir: Array<{ path: string; file_type: string }> }).ReadDir.map((e) => `${e.path}:${e.file_type}`);
      assert.ok(names.includes(`${mine}:Directory`), names.join());
      assert.ok(names.includes(`${other}:Directory`), names.join());
      assert.equal((await v(at('root'), { op: 'read', path: `/${mine}/data/a.txt` })).blob?.text, 'hello vfs');
      assert.equal((await v(at('root'), { op: 'createDrive', drive: 'byroot', package: mine })).rawBody, '"Ok"');
      const denied = await v(at('plain'), { op: 'readDir', path: '/' });
      assert.deepEqual(denied.reply, gen === 0 ? { Err: { NoCap: { action: 'ReadDir', path: '/' } } } : { Err: 'NoReadCap' });
    });

    it('install grants read+write on the package drive; the drive holds the installed files', async () => {
      assert.equal((await on({ op: 'read', path: `/${mine}/pkg/notes.txt` })).blob?.text, 'package file\n');
      const caps = await cmd<Array<{ issuer: string; params: string }>>(node, app, { op: 'ourCaps' });
      const drives = caps.filter((c) => c.issuer === `fake.dev@${VFS}`).map((c) => JSON.parse(c.params));
      for (const kind of ['read', 'write']) assert.ok(drives.some((p) => p.kind === kind && p.drive === `/${mine}/pkg`), kind);
    });

    it('a process without the vfs messaging capability cannot reach vfs (timeout)', async () => {
      const r = await v(`fake.dev@nocap:${mine}`, { op: 'read', path: `/${mine}/pkg/notes.txt` });
      assert.deepEqual(r, { sendError: 'timeout' });
    });
  });
}
