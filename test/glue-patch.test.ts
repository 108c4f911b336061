// The edits made to jco's glue when it is cached (host/loader/glue-patch.ts): applied to the
// glue of our components, and never to glue of a shape they were not written for. That the
// patched glue behaves is what the rest of the suite checks, since every process runs on it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { patchGlue } from '../host/loader/glue-patch.js';

const wasm = (name: string): string => fileURLToPath(new URL(`../../components/build/${name}.wasm`, import.meta.url));

async function glueOf(name: string): Promise<string> {
  const r = await transpileBytes(readFileSync(wasm(name)), { name: 'component', instantiation: 'sync', emitTypescriptDeclarations: false });
  return Buffer.from(r.files['component.js']!).toString('utf8');
}

describe('jco glue patch', () => {
  for (const name of ['probe-v0', 'rust-echo-v1']) {
    it(`${name}: every host import is called directly, without the async task wrapper`, { skip: existsSync(wasm(name)) ? false : `${name} not built` }, async () => {
      const js = await glueOf(name);
      const imports = js.split('const hostProvided = true;').length - 1;
      assert.ok(imports > 10);
      const patched = patchGlue(js);
      assert.equal(patched.match(/let trampoline(\d+) = _trampoline\1;/g)?.length, imports);
      assert.equal(patched.split('task = _khInertTask;').length - 1, imports);
      assert.ok(!patched.includes('globalThis?.process?.env?.JCO_DEBUG'));
      // the standard imports are called directly (no promise-tracking closure); the others keep it
      const standard = js.split("fnName = 'kinode:process/standard@").length - 1;
      const tracked = (t: string) => t.split('_trackHostOperation(() =>').length - 1;
      assert.ok(standard >= 5);
      assert.equal(tracked(patched), tracked(js) - standard);
      assert.ok(/\(receive\(\)\)/.test(patched));
    });
  }

  it('glue of another shape is left as it is (only the debug check goes)', async () => {
    const js = await glueOf('rust-echo-v1').catch(() => undefined);
    const odd = (js ?? 'const hostProvided = true;\n taskCreation: {}').replace('taskCreation: {', 'taskCreation2: {');
    assert.equal(patchGlue(odd), odd.replace('if (!globalThis?.process?.env?.JCO_DEBUG) { return; }', 'return;'));
  });
});
