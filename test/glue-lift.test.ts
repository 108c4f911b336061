// The guest-memory helpers injected into jco's glue (host/loader/glue-lift.ts): each gives what
// the glue's own expression gave (TextDecoder over a view, a copy out of `buffer.slice`,
// TextEncoder.encodeInto) on a real WebAssembly.Memory, across a grow that detaches its buffer,
// and the glue of our components uses them (the rest of the suite runs every process on them).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { makeGlueLift } from '../host/loader/glue-lift.js';
import { patchGlue } from '../host/loader/glue-patch.js';

// (the project's lib has no DOM typings for WebAssembly.Memory)
interface Memory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const Wasm = WebAssembly as unknown as { Memory: new (d: { initial: number; maximum?: number }) => Memory };

const utf8 = new TextEncoder();
const decoder = new TextDecoder();

function memoryWith(text: string, at = 100): { mem: Memory; len: number } {
  const mem = new Wasm.Memory({ initial: 1, maximum: 4 });
  const bytes = utf8.encode(text);
  new Uint8Array(mem.buffer).set(bytes, at);
  return { mem, len: bytes.length };
}

describe('glue memory helpers', () => {
  it('text: the same strings as TextDecoder, cached or not, ASCII or not, short or long', () => {
    const lift = makeGlueLift();
    const samples = ['fake.dev', 'a', '', 'ünïcödé', '💡 bulb', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(500), 'bad \xff byte'];
    for (const s of samples) {
      const { mem, len } = memoryWith(s);
      const want = decoder.decode(new Uint8Array(mem.buffer, 100, len));
      assert.equal(lift.text(mem, 100, len), want, JSON.stringify(s));
      assert.equal(lift.text(mem, 100, len), want, `${JSON.stringify(s)} again (from the cache)`);
    }
    // a lone invalid byte decodes to U+FFFD, as TextDecoder does
    const mem = new Wasm.Memory({ initial: 1 });
    new Uint8Array(mem.buffer).set([0x61, 0xff, 0x62], 8);
    assert.equal(lift.text(mem, 8, 3), 'a\ufffdb');
  });

  it('text: 3,000 different names through the 1,024 slots come back exact', () => {
    const lift = makeGlueLift();
    const mem = new Wasm.Memory({ initial: 1 });
    const view = new Uint8Array(mem.buffer);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3000; i++) {
        const name = `process-${i}`;
        view.set(utf8.encode(name), 1000);
        assert.equal(lift.text(mem, 1000, name.length), name);
      }
    }
  });

  it('text: out of range throws as the glue did', () => {
    const lift = makeGlueLift();
    const mem = new Wasm.Memory({ initial: 1 });
    assert.throws(() => lift.text(mem, 65530, 10), RangeError);
  });

  it('a grow (which detaches the buffer) is seen by every helper', () => {
    const lift = makeGlueLift();
    const { mem, len } = memoryWith('before');
    assert.equal(lift.text(mem, 100, len), 'before');
    assert.equal(lift.dataView(mem).getUint8(100), 'b'.charCodeAt(0));
    mem.grow(1);
    new Uint8Array(mem.buffer).set(utf8.encode('later!'), 70000);
    assert.equal(lift.text(mem, 70000, 6), 'later!');
    assert.equal(lift.dataView(mem).byteLength, 131072);
    assert.equal(lift.dataView(mem).getUint8(70000), 'l'.charCodeAt(0));
    assert.deepEqual([...lift.bytes(mem, 70000, 6)], [...utf8.encode('later!')]);
    assert.ok(lift.asciiInto(mem, 'grown', 80000, 5));
    assert.equal(decoder.decode(new Uint8Array(mem.buffer, 80000, 5)), 'grown');
  });

  it('dataView: one per memory, each over its own buffer', () => {
    const lift = makeGlueLift();
    const a = memoryWith('A').mem;
    const b = memoryWith('B').mem;
    assert.equal(lift.dataView(a).getUint8(100), 65);
    assert.equal(lift.dataView(b).getUint8(100), 66);
    assert.equal(lift.dataView(a).getUint8(100), 65);
  });

  it('bytes: a copy the guest can no longer change, of every size; out of range as slice', () => {
    const lift = makeGlueLift();
    const mem = new Wasm.Memory({ initial: 2 });
    const view = new Uint8Array(mem.buffer);
    for (let i = 0; i < view.length; i++) view[i] = (i * 7) & 0xff;
    const kept: Array<[Uint8Array, Uint8Array]> = [];
    for (const len of [0, 1, 63, 64, 65, 1000, 4096, 4097, 40000]) {
      for (let k = 0; k < 6; k++) {
        const ptr = 17 + k * 3;
        const got = lift.bytes(mem, ptr, len);
        kept.push([got, view.slice(ptr, ptr + len)]);
      }
    }
    view.fill(0); // the guest writes over its memory: the copies keep what they had
    for (const [got, want] of kept) assert.deepEqual(got, want);
    // ArrayBuffer.slice clamps at the end of the memory: so do the helpers
    assert.equal(lift.bytes(mem, mem.buffer.byteLength - 2, 10).length, 2);
    // a big one keeps its own buffer (it may be handed over, transferred, to the kernel)
    const big = lift.bytes(mem, 0, 40000);
    assert.equal(big.byteOffset, 0);
    assert.equal(big.buffer.byteLength, 40000);
  });

  it('asciiInto: short ASCII written in place; anything else left to the encoder', () => {
    const lift = makeGlueLift();
    const mem = new Wasm.Memory({ initial: 1 });
    assert.ok(lift.asciiInto(mem, 'our.os', 10, 6));
    assert.equal(decoder.decode(new Uint8Array(mem.buffer, 10, 6)), 'our.os');
    assert.equal(lift.asciiInto(mem, 'ü', 10, 2), false);
    assert.equal(lift.asciiInto(mem, 'x'.repeat(64), 10, 64), false);
    assert.equal(lift.asciiInto(mem, 'tail', 65534, 4), false);
  });
});

const wasm = (name: string): string => fileURLToPath(new URL(`../../components/build/${name}.wasm`, import.meta.url));

describe('glue patch: memory helpers in use', () => {
  for (const name of ['probe-v0', 'rust-echo-v1']) {
    it(`${name}: strings lifted through the cache, send lists copied by the helper, the DataView kept`, { skip: existsSync(wasm(name)) ? false : `${name} not built` }, async () => {
      const r = await transpileBytes(readFileSync(wasm(name)), { name: 'component', instantiation: 'sync', emitTypescriptDeclarations: false });
      const js = Buffer.from(r.files['component.js']!).toString('utf8');
      const patched = patchGlue(js);
      assert.ok(patched.includes('const dataView = _khLift.dataView;'));
      assert.ok(!/TEXT_DECODER_UTF8\.decode\(new Uint8Array\(memory\d+\.buffer, ptr\d+, len\d+\)\)/.test(patched));
      assert.ok(patched.split('_khLift.text(').length - 1 >= 20);
      // the sends' lists (send-request: body, context-less blob; send-response: body, blob), and no other import's
      assert.ok(patched.split('_khLift.bytes(').length - 1 >= 5);
      assert.ok(patched.includes('_khLift.asciiInto(memory, s, ptr, len)'));
    });
  }
});
