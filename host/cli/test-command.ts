// `kinode-host test [tests.toml]`: what `kit run-tests` does, in one command and without a chain
// or a Rust runtime. For each [[tests]] group: boot a node in-process on the group's first node's
// home (its kernel, state and vfs wiped as kit wipes them), install the dependency packages and
// the setup packages marked `run`, copy setup and test wasm files into the tester's drives
// (`/tester:sys/setup`, `/tester:sys/tests`) with capabilities.json built from each test package's
// manifest, then send `Run` to tester:tester:sys through the RPC endpoint, one test at a time so
// each gets its own PASS/FAIL. Builds nothing: it takes the pkg/ folders `kit build` left.
// Groups with more than one node need networking between nodes and are skipped (not passed).

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startNode, type KinodeNode } from '../node.js';
import { parseManifest } from '../package/manifest.js';
import { parseRunResponse, runRequestBody } from '../wire/tester.js';
import { TESTER_NAMES } from '../wire/names.js';
import { rpc } from './rpc.js';
import { withProgress } from './serve.js';
import { fakeNodeName } from './runtime-args.js';
import { loadTestsToml, type TestGroup, type TestsConfig } from './tests-toml.js';

export interface TestCommandOptions {
  verbosity: number;
  keepHomes: boolean;
  /** where report lines go (default stdout) */
  out?: (line: string) => void;
}

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

export async function runTestsCommand(path: string, o: TestCommandOptions): Promise<number> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  let config: TestsConfig;
  try {
    config = loadTestsToml(path);
  } catch (e) {
    out(`kinode-host test: ${(e as Error).message}`);
    return 2;
  }
  out(`kinode-host test: ${config.file}`);
  const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
  for (const [i, group] of config.tests.entries()) {
    const names = group.testPackagePaths.map((p) => basename(p));
    if (group.nodes.length > 1) {
      for (const n of names) out(`SKIP ${n} (needs ${group.nodes.length} nodes talking to each other: kinode-host has no networking between nodes)`);
      tally.skipped += names.length;
      continue;
    }
    try {
      await runGroup(config, group, i, o, out, tally);
    } catch (e) {
      out(`kinode-host test: tests[${i}]: ${(e as Error).message}`);
      for (const n of names) out(`FAIL ${n} (not run)`);
      tally.failed += names.length;
    }
  }
  out(`${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
  return tally.failed > 0 ? 1 : tally.skipped > 0 ? 3 : 0;
}

async function runGroup(config: TestsConfig, group: TestGroup, index: number, o: TestCommandOptions, out: (l: string) => void, tally: Tally): Promise<void> {
  const spec = group.nodes[0]!;
  mkdirSync(spec.home, { recursive: true });
  for (const dir of ['kernel', 'kv', 'sqlite', 'vfs', 'state']) rmSync(join(spec.home, dir), { recursive: true, force: true });
  const prints: string[] = [];
  const nodeName = fakeNodeName(spec.fakeNodeName);
  const showAll = config.alwaysPrintNodeOutput;
  const node: KinodeNode = await withProgress(
    `kinode-host test: booting ${nodeName} (the first run compiles each component once)...`,
    startNode({
      home: spec.home,
      port: 0,
      nodeName,
      password: spec.password,
      verbosity: Math.max(o.verbosity, spec.runtimeVerbosity),
      // the runtime's limit for RPC requests in simulation mode
      httpTimeoutMs: 600_000,
      print: (line) => {
        prints.push(line);
        if (prints.length > 200) prints.shift();
        if (showAll || o.verbosity > 0) out(`  ${nodeName}| ${line}`);
      },
    }),
  );
  let failedHere = false;
  try {
    for (const dep of group.dependencyPackagePaths) await install(node, dep, out);
    for (const s of group.setupPackages) {
      if (s.run) await install(node, s.path, out);
      copyWasm(s.path, node.drive.hostPath('/tester:sys/setup')!);
    }
    const testsDir = node.drive.hostPath('/tester:sys/tests')!;
    const caps: Record<string, unknown> = {};
    for (const t of group.testPackagePaths) {
      copyWasm(t, testsDir);
      const manifest = parseManifest(readFileSync(join(t, 'pkg', 'manifest.json'), 'utf8'), `${t}/pkg/manifest.json`);
      if (manifest.length !== 1) throw new Error(`${t}/pkg/manifest.json: a test package has exactly one process (kit's rule); found ${manifest.length}`);
      caps[basename(t)] = { request_capabilities: manifest[0]!.requestCapabilities, grant_capabilities: manifest[0]!.grantCapabilities };
    }
    writeFileSync(join(testsDir, 'capabilities.json'), JSON.stringify(caps));
    for (const s of group.setupScripts) out(`SKIP setup script \`${s}\` (scripts are not run by kinode-host test)`);

    for (const t of group.testPackagePaths) {
      const name = basename(t);
      const from = prints.length;
      const reply = await rpc(node.port, TESTER_NAMES.v1, runRequestBody({ inputNodeNames: [nodeName], testNames: [name], testTimeout: group.timeoutSecs }), {
        expects: 600,
      });
      let verdict: string;
      if (reply.status !== 200 || reply.body === undefined) {
        verdict = `FAIL ${name} (the tester did not answer: HTTP ${reply.status})`;
        tally.failed++;
      } else {
        const fail = parseRunResponse(new TextEncoder().encode(reply.body));
        if (fail) {
          verdict = `FAIL ${name}: ${fail.file}:${fail.line}:${fail.column} (test "${fail.test}")`;
          tally.failed++;
        } else {
          verdict = `PASS ${name}`;
          tally.passed++;
        }
      }
      out(verdict);
      if (verdict.startsWith('FAIL')) {
        failedHere = true;
        if (!showAll && o.verbosity === 0) for (const l of prints.slice(from)) out(`  ${nodeName}| ${l}`);
      }
    }
    for (const s of group.testScripts) {
      out(`SKIP test script \`${s}\` (scripts are not run by kinode-host test)`);
      tally.skipped++;
    }
  } finally {
    await node.stop();
    if (!config.persistHome && !o.keepHomes) rmSync(spec.home, { recursive: true, force: true });
    else if (failedHere) out(`kinode-host test: tests[${index}]: node home kept at ${spec.home}`);
  }
}

async function install(node: KinodeNode, path: string, out: (l: string) => void): Promise<void> {
  if (!existsSync(join(path, 'pkg'))) throw new Error(`${path}: no pkg/ folder (run \`kit build\` first; kinode-host test builds nothing)`);
  const r = await node.install(path);
  out(`kinode-host test: installed ${r.packageId} (${r.started.length}/${r.processes.length} processes started)`);
  if (r.started.length !== r.processes.length) throw new Error(`${r.packageId}: not every process started`);
}

/** kit's load_process: every `pkg/*.wasm` of the package into the drive folder. */
function copyWasm(pkgPath: string, dest: string): void {
  const pkg = join(pkgPath, 'pkg');
  if (!existsSync(pkg)) throw new Error(`${pkgPath}: no pkg/ folder (run \`kit build\` first; kinode-host test builds nothing)`);
  mkdirSync(dest, { recursive: true });
  for (const f of readdirSync(pkg)) if (f.endsWith('.wasm')) cpSync(join(pkg, f), join(dest, f), { dereference: true });
}
