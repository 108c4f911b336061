// A node that has compiled a component once, with every function body validated, records it in
// the transpile cache, and a later node on the home compiles those bytes with V8's validation of
// bodies deferred to their first call (host/loader/compile-gate.ts). These tests check the two
// things that must stay true: a process started that way runs, and no other module slips
// through unvalidated while such a compile has V8's process-wide flag switched on — a body that
// failed V8's late validation after the flag went off again would end the whole node.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileTrusted, compileValidating, SYNC_COMPILE_MAX, VALIDATED_BY } from '../host/loader/compile-gate.js';
import { readU32 } from '../host/loader/memory-limit.js';
import { bootNode, cleanupTempDirs, cmd, makePackage, tempDir } from './helpers.js';

after(() => cleanupTempDirs());

/** A copy of a core module whose first function body starts with `i32.add` on an empty stack: invalid. */
function withInvalidFirstBody(module: Uint8Array): Uint8Array {
  const b = Uint8Array.from(module);
  let at = 8;
  while (at < b.length) {
    const id = b[at++]!;
    let size: number;
    [size, at] = readU32(b, at);
    if (id === 10) {
      let p = readU32(b, at)[1]; // function count
      p = readU32(b, p)[1]; // first body's size
      let groups: number;
      [groups, p] = readU32(b, p);
      for (let i = 0; i < groups; i++) p = readU32(b, p)[1] + 1; // count, then the value type
      b[p] = 0x6a;
      return b;
    }
    at += size;
  }
  throw new Error('no code section');
}

/** the smallest valid module with one function `f` whose body is `i32.add` with nothing on the stack */
const SMALL_INVALID = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 0x6a, 0x1a, 0x0b]);

/** V8's refusal of an invalid function body (our webassembly.d.ts does not declare CompileError) */
const compileError = (e: Error): boolean => e.name === 'CompileError' && /Compiling function #\d+.* failed/.test(e.message);

describe('compiles with deferred validation', () => {
  const P = 'fake.dev@p:gate:test.os';
  let home: string;
  let core: Uint8Array;

  it('a second node on the home starts the JS process from bytes the first node validated', async () => {
    home = tempDir('kh-gate-');
    const dir = await makePackage({ packageName: 'gate', publisher: 'test.os', witVersion: 1, processes: [{ name: 'p', wasm: 'probe-v1', onExit: 'Restart' }] });
    const first = await bootNode({ home });
    try {
      await first.install(dir);
      await first.waitForPrint(/probe ready fake\.dev@p:gate:test\.os/, 60000);
    } finally {
      await first.stop();
    }
    const entries = join(home, 'cache', 'components');
    const entry = readdirSync(entries).map((e) => join(entries, e)).find((e) => existsSync(join(e, VALIDATED_BY)));
    assert.ok(entry, `no cache entry records ${VALIDATED_BY}`);
    const biggest = readdirSync(entry).filter((f) => f.endsWith('.wasm')).sort((a, b) => statSync(join(entry, b)).size - statSync(join(entry, a)).size)[0]!;
    core = readFileSync(join(entry, biggest));
    assert.ok(core.length > SYNC_COMPILE_MAX, 'the SpiderMonkey core module takes the asynchronous path');

    // the package's process has on-exit Restart: the second node starts it at boot
    const second = await bootNode({ home });
    try {
      await second.waitForPrint(/probe ready fake\.dev@p:gate:test\.os/, 60000);
      await cmd(second, P, { op: 'print', text: 'deferred validation ran init and answers' });
      await second.waitForPrint(/deferred validation ran init and answers/);
    } finally {
      await second.stop();
    }
  });

  it('a module compiled while a trusted compile is in flight has its bodies validated', async () => {
    assert.ok(core, 'needs the first test');
    const bigInvalid = withInvalidFirstBody(core);
    // both start while the trusted compile has V8's flag on
    const trusted = compileTrusted(core);
    const small = Promise.resolve(compileValidating(SMALL_INVALID));
    const big = Promise.resolve(compileValidating(bigInvalid));
    assert.ok((await trusted) instanceof WebAssembly.Module);
    await assert.rejects(small, compileError);
    await assert.rejects(big, compileError);
  });

  it('a trusted compile that finds a validating one in flight validates too, and the flag is off afterwards', async () => {
    assert.ok(core, 'needs the first test');
    const bigInvalid = withInvalidFirstBody(core);
    const validating = Promise.resolve(compileValidating(core));
    // bytes offered as trusted while a validating compile runs: validated all the same
    await assert.rejects(Promise.resolve(compileTrusted(bigInvalid)), compileError);
    assert.ok((await validating) instanceof WebAssembly.Module);
    // nothing in flight: a plain WebAssembly.compile validates every body again
    await assert.rejects(WebAssembly.compile(SMALL_INVALID), compileError);
  });
});
