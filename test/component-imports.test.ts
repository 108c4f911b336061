// The loader's import scanner (host/loader/component-imports.ts) on hand-assembled component
// binaries — every name form, every extern kind, several imports in one section, truncated and
// garbage input — and end to end: a Rust component importing wasi:io/poll, rewritten to the
// import-name form the wasm-tools of the Kinode 0.9 era wrote (issue 13), installed and run.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentImportNames, componentImports, NotAComponentError } from '../host/loader/component-imports.js';
import { checkImports, ComponentLoadError } from '../host/loader/transpile-cache.js';
import { bootNode, cleanupTempDirs, makePackage, tempDir } from './helpers.js';

after(() => cleanupTempDirs());

// ---- byte builders ----

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const str = (s: string): number[] => {
  const b = [...Buffer.from(s, 'utf8')];
  return [...leb(b.length), ...b];
};
const section = (id: number, payload: number[]): number[] => [id, ...leb(payload.length), ...payload];
const importSection = (...imports: number[][]): number[] => section(10, [...leb(imports.length), ...imports.flat()]);
const component = (...sections: number[][]): Uint8Array => Uint8Array.from([...HEADER, ...sections.flat()]);

/** an import: name form byte, name, extern descriptor bytes */
const imp = (form: number, name: string, desc: number[]): number[] => [form, ...str(name), ...desc];
const INSTANCE = (i: number): number[] => [0x05, ...leb(i)];
// an (empty) instance type, so the binaries are also well-formed beyond the import sections
const TYPE_SECTION = section(7, [0x01, 0x42, 0x00]);
// `(alias export 0 "x" (func))`-shaped bytes: a section that follows an import, as in real files
const ALIAS_SECTION = section(6, [0x01, 0x01, 0x00, 0x04, ...str('poll')]);

/** the one-line error a malformed binary gets (and no other kind of exception) */
function scanError(bytes: Uint8Array): string {
  try {
    componentImports(bytes);
  } catch (e) {
    assert.ok(e instanceof NotAComponentError, `a NotAComponentError, not ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  assert.fail('expected an error');
}

describe('component import names', () => {
  it('reads the section from issue 13: 01 12 "wasi:io/poll@0.2.0" 05 04, then the next sections', () => {
    const issueSection = [0x0a, 0x17, 0x01, 0x01, 0x12, ...Buffer.from('wasi:io/poll@0.2.0'), 0x05, 0x04];
    assert.deepEqual(issueSection, importSection(imp(0x01, 'wasi:io/poll@0.2.0', INSTANCE(4))));
    const bytes = component(
      TYPE_SECTION,
      importSection(imp(0x01, 'kinode:process/standard@0.8.0', INSTANCE(0))),
      issueSection,
      ALIAS_SECTION,
      importSection(imp(0x01, 'wasi:io/streams@0.2.0', INSTANCE(7))),
    );
    assert.deepEqual(componentImportNames(bytes), ['kinode:process/standard@0.8.0', 'wasi:io/poll@0.2.0', 'wasi:io/streams@0.2.0']);
    assert.deepEqual(
      componentImports(bytes).map((i) => [i.form, i.kind]),
      [[1, 'instance'], [1, 'instance'], [1, 'instance']],
    );
  });

  it('reads several imports in one section, of mixed name forms', () => {
    const bytes = component(
      importSection(
        imp(0x01, 'kinode:process/standard@0.8.0', INSTANCE(0)),
        imp(0x00, 'wasi:io/poll@0.2.0', INSTANCE(1)),
        imp(0x02, 'wasi:io/streams@0.2', [0x01, 0x01, ...str('.6'), ...INSTANCE(2)]),
        imp(0x00, 'greet', [0x01, ...leb(3)]),
      ),
      ALIAS_SECTION,
      importSection(imp(0x00, 'wasi:random/random@0.2.0', INSTANCE(300))),
    );
    assert.deepEqual(componentImportNames(bytes), [
      'kinode:process/standard@0.8.0',
      'wasi:io/poll@0.2.0',
      'wasi:io/streams@0.2.6',
      'greet',
      'wasi:random/random@0.2.0',
    ]);
  });

  it('reads each name form: 0x00, 0x01 (name alone), 0x02 with each attribute and with none', () => {
    const forms: [number[], Record<string, unknown>, string][] = [
      [imp(0x00, 'wasi:io/poll@0.2.0', INSTANCE(0)), { form: 0, name: 'wasi:io/poll@0.2.0' }, 'wasi:io/poll@0.2.0'],
      [imp(0x00, 'my-kebab-name', INSTANCE(0)), { form: 0, name: 'my-kebab-name' }, 'my-kebab-name'],
      [imp(0x01, 'wasi:io/poll@0.2.0', INSTANCE(0)), { form: 1, name: 'wasi:io/poll@0.2.0' }, 'wasi:io/poll@0.2.0'],
      [imp(0x02, 'wasi:io/poll@0.2', [0x00, ...INSTANCE(0)]), { form: 2, name: 'wasi:io/poll@0.2' }, 'wasi:io/poll@0.2'],
      [
        imp(0x02, 'wasi:io/poll@0.2', [0x01, 0x01, ...str('.0'), ...INSTANCE(0)]),
        { form: 2, name: 'wasi:io/poll@0.2', versionSuffix: '.0' },
        'wasi:io/poll@0.2.0',
      ],
      [
        imp(0x02, 'primary', [0x01, 0x00, ...str('wasi:keyvalue/store@0.2'), ...INSTANCE(0)]),
        { form: 2, name: 'primary', implements: 'wasi:keyvalue/store@0.2' },
        'primary',
      ],
      [
        imp(0x02, 'kinode:process/standard@1', [0x03, 0x02, ...str('id-1'), 0x01, ...str('.0.0'), 0x00, ...str('a:b/c'), ...INSTANCE(0)]),
        { form: 2, name: 'kinode:process/standard@1', externalId: 'id-1', versionSuffix: '.0.0', implements: 'a:b/c' },
        'kinode:process/standard@1.0.0',
      ],
    ];
    for (const [bytes, want, full] of forms) {
      const [got] = componentImports(component(importSection(bytes), ALIAS_SECTION));
      assert.deepEqual({ ...got, kind: undefined }, { ...want, kind: undefined }, JSON.stringify(want));
      assert.deepEqual(componentImportNames(component(importSection(bytes))), [full]);
    }
  });

  it('reads each extern kind with its payload', () => {
    const kinds: [number[], string][] = [
      [[0x00, 0x11, ...leb(2)], 'module'],
      [[0x01, ...leb(200)], 'func'],
      [[0x02, 0x73], 'value'], // string
      [[0x02, 0x80, 0x01], 'value'], // type index 128 as s33
      [[0x03, 0x00, ...leb(70000)], 'type'], // eq
      [[0x03, 0x01], 'type'], // sub resource
      [[0x04, ...leb(1)], 'component'],
      [[0x05, ...leb(16384)], 'instance'],
    ];
    const all = kinds.map(([desc], i) => imp(0x00, `item-${i}`, desc));
    const bytes = component(importSection(...all), ALIAS_SECTION);
    assert.deepEqual(
      componentImports(bytes).map((i) => i.kind),
      kinds.map(([, k]) => k),
    );
    assert.deepEqual(componentImportNames(bytes), kinds.map((_, i) => `item-${i}`));
  });

  it('reads a value import in the value-bound form of the current component-model text', () => {
    // 0x02 0x00 valueidx (eq) and 0x02 0x01 valtype: not a bare valtype, so the section is reread
    const bytes = component(importSection(imp(0x00, 'a', [0x02, 0x00, ...leb(300)]), imp(0x00, 'b', [0x02, 0x01, 0x7f]), imp(0x00, 'c', INSTANCE(0))));
    assert.deepEqual(
      componentImports(bytes).map((i) => [i.name, i.kind]),
      [['a', 'value'], ['b', 'value'], ['c', 'instance']],
    );
  });

  it('gives a clear one-line error for each kind of malformed binary', () => {
    const ok = importSection(imp(0x00, 'wasi:io/poll@0.2.0', INSTANCE(4)));
    const cases: [Uint8Array, RegExp][] = [
      [Uint8Array.from([1, 2, 3]), /^not a WebAssembly binary$/],
      [Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), /core WebAssembly module, not a component/],
      [Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0c, 0x00, 0x01, 0x00]), /unsupported WebAssembly component version \(0c 00 01 00/],
      [component(importSection(imp(0x03, 'x', INSTANCE(0)))), /unknown import name form 0x03 at byte 11/],
      [component(importSection(imp(0x00, 'x', [0x06, 0x00]))), /unknown import kind 0x06 at byte 14/],
      [component(importSection(imp(0x00, 'x', [0x00, 0x10, 0x00]))), /core module import has 0x10 where 0x11 belongs/],
      [component(importSection(imp(0x00, 'x', [0x03, 0x02]))), /unknown type bound 0x02/],
      [component(importSection(imp(0x02, 'x', [0x01, 0x07, ...str('y'), ...INSTANCE(0)]))), /unknown name attribute 0x07/],
      [component(importSection(imp(0x02, 'x', [0x02, 0x01, ...str('.1'), 0x01, ...str('.2'), ...INSTANCE(0)]))), /duplicate name attribute 0x01/],
      [component(importSection([0x00, 0x02, 0xc3, 0x28, ...INSTANCE(0)])), /import name at byte 13 is not valid UTF-8/],
      [component([...ok.slice(0, 1), ok[1]! + 1, ...ok.slice(2), 0x00]), /1 unread bytes at its end/],
      [component(section(10, [0x02, ...imp(0x00, 'x', INSTANCE(0))])), /\(import 2 of 2\): truncated: import name at byte \d+ runs past the end of its section/],
      [component(importSection(imp(0x00, 'x', [0x05, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))), /bad LEB128 u32 \(instance type index\)/],
      [component(importSection(imp(0x00, 'x', [0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]))), /bad LEB128 s33 \(value type\)/],
      [component([0x0a, 0x20, 0x01, 0x00]), /truncated component binary: section 10 at byte 8 needs 32 bytes, 2 remain/],
      [component([0x0a, 0x80]), /truncated: section size at byte 10 runs past the end of the file \(byte 10\)/],
    ];
    for (const [bytes, want] of cases) assert.match(scanError(bytes), want);
  });

  it('refuses every truncation of a valid binary with NotAComponentError, and survives garbage', () => {
    const bytes = component(
      TYPE_SECTION,
      importSection(imp(0x01, 'kinode:process/standard@0.8.0', INSTANCE(0)), imp(0x02, 'wasi:io/poll@0.2', [0x01, 0x01, ...str('.0'), ...INSTANCE(1)])),
      ALIAS_SECTION,
      importSection(imp(0x00, 'v', [0x02, 0x73]), imp(0x00, 'm', [0x00, 0x11, 0x00])),
    );
    assert.equal(componentImports(bytes).length, 4);
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) {
      // the cut may fall between two sections, which is a shorter valid binary
      const cut = bytes.subarray(0, n);
      try {
        componentImports(cut);
      } catch (e) {
        assert.ok(e instanceof NotAComponentError, `cut at ${n}: ${String(e)}`);
        assert.ok(!e.message.includes('\n'));
        refused++;
      }
    }
    assert.ok(refused >= bytes.length - 4, `${refused} of ${bytes.length} cuts refused`);
    // deterministic garbage after a valid header: results or NotAComponentError, nothing else
    let seed = 13;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff;
    for (let round = 0; round < 2000; round++) {
      const body = Array.from({ length: 1 + (round % 64) }, rand);
      const garbage = round % 2 ? [0x0a, ...leb(body.length), ...body] : body;
      try {
        componentImports(component(garbage));
      } catch (e) {
        assert.ok(e instanceof NotAComponentError, `round ${round}: ${String(e)}`);
      }
    }
  });

  it('the loader names the file in its one-line error', () => {
    const bad = component(importSection(imp(0x00, 'x', [0x06])));
    assert.throws(
      () => checkImports(bad, 0, 'pkg:test.os: /bad.wasm'),
      (e: unknown) => e instanceof ComponentLoadError && /^pkg:test\.os: \/bad\.wasm: malformed import section at byte 8 \(import 1 of 1\): unknown import kind 0x06 at byte 14$/.test(e.message),
    );
  });
});

// ---- real components ----

const built = (name: string): string => fileURLToPath(new URL(`../../components/build/${name}.wasm`, import.meta.url));

/**
 * Rewrites a component's top-level import names the way wasm-tools wrote them from 2023-10-28
 * to 2024-09-03 (wasm-encoder's push_extern_name_byte: 0x01 before a name with a ':', else
 * 0x00), with the WASI version of that era's adapter (@0.2.0; jco 1.1.1 / wasmtime 19). Import
 * names are referred to by nothing else in the binary (aliases go by index), so the result is
 * the same component. Each section must hold one import, as wit-component writes them.
 */
function toOldNameForm(bytes: Uint8Array): Uint8Array {
  const out: number[] = [...bytes.subarray(0, 8)];
  let p = 8;
  const u32 = (): number => {
    let r = 0;
    for (let s = 0; ; s += 7) {
      const b = bytes[p++]!;
      r += (b & 0x7f) * 2 ** s;
      if (!(b & 0x80)) return r;
    }
  };
  while (p < bytes.length) {
    const id = bytes[p++]!;
    const size = u32();
    const end = p + size;
    if (id !== 10) {
      out.push(...section(id, [...bytes.subarray(p, end)]));
    } else {
      assert.equal(u32(), 1, 'one import per section');
      const form = bytes[p++]!;
      assert.equal(form, 0x00, 'built by current tools');
      const len = u32();
      const name = Buffer.from(bytes.subarray(p, p + len)).toString('utf8').replace(/^(wasi:.*)@0\.2\.\d+$/, '$1@0.2.0');
      p += len;
      out.push(...importSection(imp(name.includes(':') ? 0x01 : 0x00, name, [...bytes.subarray(p, end)])));
    }
    p = end;
  }
  return Uint8Array.from(out);
}

describe('built components', () => {
  for (const name of ['probe-v0', 'probe-v1', 'rust-echo-v0', 'rust-echo-v1', 'rust-poll-v0', 'rust-poll-v1']) {
    it(`${name}: the import names as the tools wrote them`, { skip: existsSync(built(name)) ? false : 'not built' }, () => {
      const imports = componentImports(readFileSync(built(name)));
      assert.equal(imports.filter((i) => i.name.startsWith('kinode:process/standard@')).length, 1);
      assert.ok(imports.every((i) => i.kind === 'instance' && i.form === 0 && /^(wasi|kinode):[a-z-]+\/[a-z-]+@\d+\.\d+\.\d+$/.test(i.name)), JSON.stringify(imports));
    });
  }
});

for (const gen of [0, 1] as const) {
  const wasm = built(`rust-poll-v${gen}`);
  describe(`a component importing wasi:io/poll in the 0x01 name form, process-v${gen}`, { skip: existsSync(wasm) ? false : `${wasm} not built (no Rust web toolchain)` }, () => {
    it('is read, installed with its world detected, runs, and sleeps through wasi:io/poll; a broken copy is refused in one line', async () => {
      const old = toOldNameForm(readFileSync(wasm));
      const imports = componentImports(old);
      const poll = imports.find((i) => i.name === 'wasi:io/poll@0.2.0');
      assert.deepEqual(poll && { form: poll.form, kind: poll.kind }, { form: 1, kind: 'instance' });
      assert.ok(imports.every((i) => i.form === 1));
      assert.ok(componentImportNames(old).includes(`kinode:process/standard@${gen ? '1.0.0' : '0.8.0'}`));

      const files = tempDir('kh-old-form-');
      const file = join(files, `rust-poll-old-v${gen}.wasm`);
      writeFileSync(file, old);
      // the same file with the poll import's extern kind (after its name) made invalid
      const broken = Buffer.from(old);
      broken[broken.indexOf('wasi:io/poll@0.2.0') + 'wasi:io/poll@0.2.0'.length] = 0x06;
      const brokenFile = join(files, `broken-v${gen}.wasm`);
      writeFileSync(brokenFile, broken);
      const pkg = `oldform${gen}`;
      // no wit_version: install reads the world from the component's imports
      const dir = await makePackage({ packageName: pkg, publisher: 'test.os', witVersion: null, processes: [{ name: 'sleeper', wasm: file }] });
      const bad = await makePackage({ packageName: `badform${gen}`, publisher: 'test.os', witVersion: null, processes: [{ name: 'bad', wasm: brokenFile }] });
      const node = await bootNode({ packages: [bad, dir] });
      try {
        const sleeper = `fake.dev@sleeper:${pkg}:test.os`;
        await node.waitForPrint(new RegExp(`^${pkg}:test\\.os: rust echo ready ${sleeper.replace(/\./g, '\\.')}$`));
        const started = Date.now();
        const r = await node.driver().request(sleeper, 'sleep 300', { expects: 30 });
        assert.equal(r.text, 'slept 300');
        assert.ok(Date.now() - started >= 300, 'the sleep lasted at least as long as asked');
        assert.equal((await node.driver().request(sleeper, 'still echoing', { expects: 5 })).text, 'still echoing');
        // the broken one is refused in one line naming its file; the node runs on
        const refused = node.prints.filter((l) => l.includes(`badform${gen}`) && l.includes('bad.wasm'));
        assert.ok(
          refused.some((l) => /bad\.wasm: malformed import section at byte \d+ \(import 1 of 1\): unknown import kind 0x06 at byte \d+$/.test(l)),
          node.prints.join('\n'),
        );
      } finally {
        await node.stop();
      }
    });
  });
}
