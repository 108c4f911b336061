// One `Run`, as the runtime's tester does it (kinode/packages/tester): only the first node named
// in `input_node_names` runs tests (any other answers Ok); every requested test must be
// `<name>.wasm` in `/tester:sys/tests`; each is spawned in order as `<random u64>:tester:sys`,
// not public, on-exit None, with the capabilities capabilities.json requests for it (a JSON
// Capability, else a process id -> messaging) plus the tester's own, granting what the file
// says (v1 `["p:k:pub","<params>"]` or a process id -> messaging); it is sent the same `Run` and
// its Response decides. The first failure ends the run and is the answer. Unlike the runtime,
// each test process is killed once it has answered (the runtime leaves them running).

import { readdir, readFile } from 'node:fs/promises';
import type { Capability, Generation, ProcessId } from '../../types.js';
import type { ProcessSpec } from '../../kernel/kernel-options.js';
import { IdSource, MESSAGING, NETWORK, parseAddress, parseProcessId } from '../../kernel/address.js';
import type { Drive } from '../../package/drive.js';
import { componentGeneration, driveCap } from '../../package/install.js';
import { ETH_NAMES, HTTP_CLIENT_NAMES, HTTP_SERVER_NAMES, KERNEL_NAMES, KV_NAMES, SQLITE_NAMES, STATE_NAMES, TIMER_NAMES, VFS_NAMES } from '../../wire/names.js';
import { parseCapabilitiesJson, parseRunRequest, parseRunResponse, runErr, runOk, type FailResponse, type TestCaps } from '../../wire/tester.js';

export const SETUP_DRIVE = '/tester:sys/setup';
export const TESTS_DRIVE = '/tester:sys/tests';

export type ChildReply = { kind: 'response'; body: Uint8Array } | { kind: 'timeout' } | { kind: 'exited' };

export interface RunEnv {
  node: string;
  drive: Drive;
  say: (line: string) => void;
  spawn: (spec: ProcessSpec, caps: Capability[]) => Promise<boolean>;
  grant: (holder: ProcessId, caps: Capability[]) => void;
  kill: (pid: ProcessId) => Promise<void>;
  ask: (pid: ProcessId, body: Uint8Array, timeoutS: number) => Promise<ChildReply>;
}

const ids = new IdSource();
const TERMINAL = { v0: 'terminal:terminal:sys', v1: 'terminal:terminal:sys' };

/** The tester's own capabilities (its manifest's requests, networking, both drives), per era. */
function testerCaps(node: string, gen: Generation): Capability[] {
  const era = (n: { v0: string; v1: string }) => (gen === 0 ? n.v0 : n.v1);
  const names = [ETH_NAMES, HTTP_CLIENT_NAMES, HTTP_SERVER_NAMES, KERNEL_NAMES, KV_NAMES, SQLITE_NAMES, STATE_NAMES, TERMINAL, TIMER_NAMES, VFS_NAMES];
  return [
    ...names.map((n) => ({ issuer: { node, process: parseProcessId(era(n)) }, params: MESSAGING })),
    { issuer: { node, process: parseProcessId(KERNEL_NAMES.v1) }, params: NETWORK },
    ...[SETUP_DRIVE, TESTS_DRIVE].flatMap((d) => [driveCap(node, 'read', d), driveCap(node, 'write', d)]),
  ];
}

/** A capabilities.json request entry: a JSON Capability `{"issuer":"node@p:k:pub","params":"..."}`, else a process id. */
function requestedCap(node: string, entry: string): Capability {
  try {
    const j = JSON.parse(entry) as { issuer?: unknown; params?: unknown };
    if (j && typeof j === 'object' && typeof j.issuer === 'string' && typeof j.params === 'string') {
      return { issuer: parseAddress(j.issuer), params: j.params };
    }
  } catch {
    // not JSON: a process id
  }
  return { issuer: { node, process: parseProcessId(entry) }, params: MESSAGING };
}

/** A grant entry: v1 `["p:k:pub","<params>"]`, else a process id -> messaging. */
function grantedCap(entry: string): [ProcessId, string] {
  try {
    const j = JSON.parse(entry) as unknown;
    if (Array.isArray(j) && j.length === 2 && typeof j[0] === 'string' && typeof j[1] === 'string') return [parseProcessId(j[0]), j[1]];
  } catch {
    // not JSON: a process id
  }
  return [parseProcessId(entry), MESSAGING];
}

const fail = (test: string): FailResponse => ({ test, file: 'tester:tester:sys', line: 0, column: 0 });

/** Handle one Run request body; returns the Response body. Throws only for unexpected errors. */
export async function runTests(env: RunEnv, body: Uint8Array): Promise<string> {
  let run;
  try {
    run = parseRunRequest(body);
  } catch (e) {
    env.say(`tester: not a Run request: ${(e as Error).message}`);
    return runErr(fail('tester'));
  }
  env.say('tester: got Run');
  if (run.inputNodeNames.length === 0) {
    env.say('tester: Run names no nodes (input_node_names is empty)');
    return runErr(fail('tester'));
  }
  if (run.inputNodeNames[0] !== env.node) return runOk(); // not the master node

  const testsDir = env.drive.hostPath(TESTS_DRIVE)!;
  const present = new Set(await readdir(testsDir).catch(() => [] as string[]));
  for (const name of run.testNames) {
    if (!present.has(`${name}.wasm`)) {
      env.say(`tester: test ${name} not found amongst [${[...present].sort().join(', ')}] in ${TESTS_DRIVE}`);
      return runErr(fail('tester'));
    }
  }
  let capsByTest = new Map<string, TestCaps>();
  if (present.has('capabilities.json')) {
    try {
      capsByTest = parseCapabilitiesJson(new Uint8Array(await readFile(`${testsDir}/capabilities.json`)));
    } catch (e) {
      env.say(`tester: ${TESTS_DRIVE}/capabilities.json: ${(e as Error).message}`);
      return runErr(fail('tester'));
    }
  }

  for (const name of run.testNames) {
    const outcome = await runOne(env, name, capsByTest.get(name), body, run.testTimeout);
    if (outcome) {
      env.say(`tester: FAIL ${outcome.test} at ${outcome.file}:${outcome.line}:${outcome.column}`);
      return runErr(outcome);
    }
    env.say(`tester: PASS ${name}`);
  }
  env.say(`tester: done running [${run.testNames.join(', ')}]`);
  return runOk();
}

async function runOne(env: RunEnv, name: string, caps: TestCaps | undefined, body: Uint8Array, timeoutS: number): Promise<FailResponse | undefined> {
  const wasmPath = `${TESTS_DRIVE}/${name}.wasm`;
  let gen: Generation;
  let requested: Capability[];
  let grants: Array<[ProcessId, string]>;
  try {
    const wasm = await env.drive.read(wasmPath);
    if (!wasm) throw new Error(`${wasmPath}: cannot read`);
    gen = componentGeneration(wasm, wasmPath);
    requested = (caps?.requestCapabilities ?? []).map((c) => requestedCap(env.node, c));
    grants = (caps?.grantCapabilities ?? []).map(grantedCap);
  } catch (e) {
    env.say(`tester: couldn't spawn ${wasmPath}: ${(e as Error).message}`);
    return fail('tester');
  }
  const pid: ProcessId = { processName: BigInt.asUintN(64, ids.take()).toString(), packageName: 'tester', publisherNode: 'sys' };
  for (const [holder, params] of grants) env.grant(holder, [{ issuer: { node: env.node, process: pid }, params }]);
  const started = await env.spawn(
    { pid, generation: gen, wasmPath, onExit: { tag: 'none' }, public: false },
    [...requested, ...testerCaps(env.node, gen)],
  );
  if (!started) {
    env.say(`tester: couldn't spawn ${wasmPath}`);
    return fail('tester');
  }
  const reply = await env.ask(pid, body, timeoutS);
  await env.kill(pid);
  if (reply.kind === 'timeout') {
    env.say(`tester: ${name} did not answer Run within ${timeoutS} s`);
    return fail('tester');
  }
  if (reply.kind === 'exited') {
    env.say(`tester: ${name} ended without answering Run`);
    return fail('tester');
  }
  try {
    return parseRunResponse(reply.body);
  } catch (e) {
    env.say(`tester: ${name} answered something other than a Run response: ${(e as Error).message}`);
    return fail('tester');
  }
}
