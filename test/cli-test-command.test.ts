// `kinode-host test`: kit's tests.toml layout (a package with a setup process, test packages
// under test/ with their pkg/ folders already built), run in one command: PASS/FAIL per test
// with the failing file:line:col, multi-node groups skipped as needing networking, the exit
// code 0 only when everything passed.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupTempDirs, makePackage, tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../host/cli/main.js', import.meta.url));
const BUILD = fileURLToPath(new URL('../../components/build/', import.meta.url));
const ECHO = 'echo:kitsetup:kinode-host.os';

after(() => cleanupTempDirs());

function runCli(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res) => child.on('exit', (code) => res({ code, lines: out.split('\n') })));
}

/** A kit project: the package (setup, run = true) at the root, tests under test/. */
async function project(testNames: Array<[name: string, withCaps: boolean]>, toml: (names: string[]) => string): Promise<string> {
  const root = join(tempDir('kh-proj-'), 'kitsetup');
  await makePackage({ dir: root, packageName: 'kitsetup', publisher: 'kinode-host.os', processes: [{ name: 'echo', wasm: 'probe-v1', onExit: 'Restart' }] });
  mkdirSync(join(root, 'test'), { recursive: true });
  for (const [name, withCaps] of testNames) {
    await makePackage({
      dir: join(root, 'test', name),
      packageName: name,
      publisher: 'kinode-host.os',
      processes: [{ name, wasm: join(BUILD, 'tester-case-v1.wasm'), onExit: 'Restart', public: true, requestCapabilities: withCaps ? [ECHO] : [], grantCapabilities: withCaps ? [ECHO] : [] }],
    });
  }
  writeFileSync(join(root, 'test', 'tests.toml'), toml(testNames.map(([n]) => n)));
  return root;
}

const group = (names: string[], nodes: string[]) => `
[[tests]]
dependency_package_paths = []
setup_packages = [
    { path = "..", run = true }
]
setup_scripts = []
test_package_paths = [${names.map((n) => JSON.stringify(n)).join(', ')}]
test_scripts = []
timeout_secs = 20
fakechain_router = 8545
${nodes.map((n) => `
[[tests.nodes]]
port = 8080
home = "home/${n}"
fake_node_name = "${n}.dev"
runtime_verbosity = 0
`).join('')}`;

const header = `runtime = { FetchVersion = "latest" }
persist_home = false
runtime_build_release = false
always_print_node_output = false
`;

describe('kinode-host test', () => {
  it('reports PASS, FAIL with file:line:col, SKIP for multi-node groups, and exits non-zero', async () => {
    const root = await project([['pass-case', true], ['fail-case', false]], (names) => header + group(names, ['first']) + group(['pass-case'], ['first', 'second']));
    const { code, lines } = await runCli(['test', root]); // kit's third place: <dir>/test/tests.toml
    const text = lines.join('\n');
    assert.equal(code, 1, text);
    assert.ok(lines.includes('PASS pass-case'), text);
    assert.ok(lines.some((l) => /^FAIL fail-case: components\/build\/src\/tester-case-v1\.js:\d+:\d+ \(test "tester-case"\)$/.test(l)), text);
    assert.ok(lines.some((l) => l.startsWith('SKIP pass-case (needs 2 nodes')), text);
    assert.ok(lines.includes('1 passed, 1 failed, 1 skipped'), text);
    // the failing test's node output is shown; the home is removed (persist_home = false)
    assert.ok(lines.some((l) => l.includes('first.dev| tester:sys: tester-case: FAIL: echo:kitsetup:kinode-host.os did not answer')), text);
    assert.ok(!existsSync(join(root, 'test', 'home', 'first')));
  });

  it('exits 0 when every test passes; a missing tests.toml is a clear error', async () => {
    const root = await project([['pass-case', true]], (names) => header + group(names, ['first']));
    const ok = await runCli(['test', join(root, 'test', 'tests.toml')]);
    assert.equal(ok.code, 0, ok.lines.join('\n'));
    assert.ok(ok.lines.includes('1 passed, 0 failed, 0 skipped'), ok.lines.join('\n'));
    const missing = await runCli(['test', tempDir('kh-empty-')]);
    assert.equal(missing.code, 2);
    assert.ok(missing.lines.some((l) => l.includes('could not find tests.toml within')), missing.lines.join('\n'));
  });
});
