// The host's own WASI layer (host/process/wasi/) seen from a real kit-style Rust process: the
// rust-poll build's `fs …` commands use std::fs in its TEMP_DIR (wasi-libc + the preview1
// adapter -> wasi:filesystem open-at, streams, stat, read-directory, ...). Files it writes are on
// the host's disk, files the host writes are readable by it, errors arrive as the errno a Rust
// process sees, and nothing outside the preopened directory can be reached.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootNode, cleanupTempDirs, makePackage } from './helpers.js';

const built = (gen: 0 | 1): string => fileURLToPath(new URL(`../../components/build/rust-poll-v${gen}.wasm`, import.meta.url));

// wasi preview1 errno values, as Rust's raw_os_error reports them on wasm32-wasip1
const ENOENT = 44;
const EEXIST = 20;
const ENOTEMPTY = 55;
const EPERM = 63;

after(() => cleanupTempDirs());

for (const gen of [0, 1] as const) {
  const wasm = built(gen);
  describe(`WASI filesystem of a Rust process, process-v${gen}`, { skip: existsSync(wasm) ? false : `${wasm} not built (no Rust web toolchain)` }, () => {
    it('writes, reads, appends, stats, lists, renames, truncates and removes in TEMP_DIR; errors carry their errno; nothing outside is reachable', async () => {
      const pkg = `wasifs${gen}`;
      const dir = await makePackage({ packageName: pkg, publisher: 'test.os', witVersion: gen, processes: [{ name: 'fs', wasm }] });
      const node = await bootNode({ packages: [dir] });
      try {
        const fs = `fake.dev@fs:${pkg}:test.os`;
        await node.waitForPrint(new RegExp(`rust echo ready ${fs.replace(/\./g, '\\.')}$`));
        const run = async (cmd: string): Promise<string> => (await node.driver().request(fs, `fs ${cmd}`, { expects: 30 })).text;
        const tmp = join(node.opts.home, 'vfs', `${pkg}:test.os`, 'tmp');

        // the process writes, the host reads; the host writes, the process reads
        assert.equal(await run('write a.txt hello wasi'), 'ok');
        assert.equal(readFileSync(join(tmp, 'a.txt'), 'utf8'), 'hello wasi');
        writeFileSync(join(tmp, 'from-host.txt'), 'written by the host');
        assert.equal(await run('read from-host.txt'), 'written by the host');
        assert.equal(await run('append a.txt , again'), 'ok');
        assert.equal(await run('read a.txt'), 'hello wasi, again');
        assert.equal(await run('stat a.txt'), 'file 17');
        assert.equal(await run('truncate a.txt 5'), 'ok');
        assert.equal(readFileSync(join(tmp, 'a.txt'), 'utf8'), 'hello');
        assert.equal(await run('sync a.txt'), 'ok');

        // directories
        assert.equal(await run('mkdir d'), 'ok');
        assert.equal(await run('stat d'), 'dir');
        assert.equal(await run('write d/x.txt x'), 'ok');
        assert.equal(await run('ls d'), 'x.txt');
        assert.equal(await run('mv d/x.txt d/y.txt'), 'ok');
        assert.equal(await run('ls d'), 'y.txt');
        assert.equal(readFileSync(join(tmp, 'd', 'y.txt'), 'utf8'), 'x');
        // (Rust's std names this errno `Uncategorized` on wasm32-wasip1: the errno is what counts)
        assert.match(await run('rmdir d'), new RegExp(`^err \\S+ ${ENOTEMPTY}$`));
        assert.equal(await run('rm d/y.txt'), 'ok');
        assert.equal(await run('rmdir d'), 'ok');
        assert.equal(existsSync(join(tmp, 'd')), false);
        assert.equal(await run('ls .'), 'a.txt,from-host.txt');

        // errors, as a Rust process sees them
        assert.equal(await run('read missing.txt'), `err NotFound ${ENOENT}`);
        assert.equal(await run('mkdir d2'), 'ok');
        assert.equal(await run('mkdir d2'), `err AlreadyExists ${EEXIST}`);
        assert.equal(await run('rm nothing-here'), `err NotFound ${ENOENT}`);
        assert.match(await run('rm d2'), /^err \S+ \d+$/, 'unlink of a directory fails');
        assert.equal(existsSync(join(tmp, 'd2')), true);

        // confinement: `..` above the preopen and a symlink leading out are refused, and nothing is written there
        const outside = join(dirname(tmp), 'outside.txt');
        writeFileSync(outside, 'not yours');
        assert.equal(await run('read ../outside.txt'), `err PermissionDenied ${EPERM}`);
        assert.equal(await run('write ../outside.txt overwritten'), `err PermissionDenied ${EPERM}`);
        assert.equal(await run('write ../escaped.txt new'), `err PermissionDenied ${EPERM}`);
        symlinkSync(outside, join(tmp, 'link-out'));
        assert.equal(await run('read link-out'), `err PermissionDenied ${EPERM}`);
        assert.equal(await run('write link-out overwritten'), `err PermissionDenied ${EPERM}`);
        mkdirSync(join(dirname(tmp), 'outdir'), { recursive: true });
        symlinkSync(join(dirname(tmp), 'outdir'), join(tmp, 'dir-out'));
        assert.equal(await run('write dir-out/f.txt new'), `err PermissionDenied ${EPERM}`);
        assert.match(await run('read /etc/hostname'), /^err /, 'an absolute path outside the preopen');
        assert.equal(readFileSync(outside, 'utf8'), 'not yours');
        assert.equal(existsSync(join(dirname(tmp), 'escaped.txt')), false);
        assert.equal(existsSync(join(dirname(tmp), 'outdir', 'f.txt')), false);

        // the process is still alive and serving
        assert.equal((await node.driver().request(fs, 'still here', { expects: 5 })).text, 'still here');
      } finally {
        await node.stop();
      }
    });
  });
}
