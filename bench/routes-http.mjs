// End-to-end request latency to one process while another holds N bindings (issue 11.5).
//   node bench/routes-http.mjs [N] [dist dir of the build to measure, default ./dist]
// Boots an in-process node with the probe package, lets `probe` bind N paths, then times
// sequential GETs to `demo` (which answers every request). Not a test: no thresholds.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.argv[2] ?? 50000);
const dist = resolve(process.argv[3] ?? 'dist');
const { startNode } = await import(pathToFileURL(join(dist, 'host/node.js')).href);
const { makePackage } = await import(pathToFileURL(resolve('components/packages.mjs')).href);

const home = mkdtempSync(join(tmpdir(), 'kh-bench-'));
const caps = { requestCapabilities: ['http-server:distro:sys'], grantCapabilities: ['http-server:distro:sys'] };
const pkg = makePackage({
  dir: join(home, 'pkg-src', 'bench'),
  packageName: 'bench',
  publisher: 'test.os',
  witVersion: 1,
  processes: [{ name: 'probe', wasm: 'probe-v1', ...caps }, { name: 'demo', wasm: 'probe-v1', ...caps }],
});
const node = await startNode({ home, port: 0, verbosity: 0, print: () => {}, packages: [pkg], maxBindingsPerProcess: N + 10, driver: true });
await node.waitForPrint(/bind reply/);
const url = `http://127.0.0.1:${node.port}/demo:bench:test.os/x`;
async function time(rounds) {
  for (let i = 0; i < 20; i++) await (await fetch(url)).text();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await (await fetch(url)).text();
  return Number(process.hrtime.bigint() - t0) / rounds / 1e6;
}
const before = await time(200);
const BATCH = 5000;
for (let i = 0; i < N; i += BATCH) {
  const requests = Array.from({ length: Math.min(BATCH, N - i) }, (_, j) => ({
    target: 'fake.dev@http-server:distro:sys',
    body: { Bind: { path: `/r${i + j}/:id`, authenticated: false, local_only: false, cache: false } },
  }));
  await node.driver().request('fake.dev@probe:bench:test.os', { op: 'sendMany', requests }, { expects: 120 });
}
// the last bind has been handled once a bound path answers (the probe does not: 408 later), so
// wait on an awaited bind instead
await node.driver().request('fake.dev@probe:bench:test.os', { op: 'await', target: 'fake.dev@http-server:distro:sys', body: { Bind: { path: '/last', authenticated: false, local_only: false, cache: false } }, expects: 120 }, { expects: 120 });
const after = await time(200);
console.log(`${dist}: GET to another process: ${before.toFixed(2)} ms with no other bindings, ${after.toFixed(2)} ms with ${N} bindings of one process`);
await node.stop();
rmSync(home, { recursive: true, force: true });
