// The probe component on its own: transpiled by the host's loader and instantiated in this
// thread with WASI and a stand-in `kinode:process/standard` whose imports do nothing (no kernel,
// no worker, no ports). What it sustains is the ceiling the component itself puts on a host
// figure. Used by bench/target.ts (role `alone`); it replaces this thread's stdout/stderr writers
// (the WASI set-up does), so it runs in a child of its own.
//
//   answer    requests with expects-response to a quiet autoRespond probe: receive + send-response
//   take      requests without expects-response to the same probe: receive only (nothing to answer)
//   flood-rr  the probe's flood op with expects-response: send-request + receive of the response
//   echo      another component (the Rust echo) answering requests with expects-response: no
//             set-up command, every receive is a request it answers with send-response

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TranspileCache } from '../host/loader/transpile-cache.js';
import { setupWasi } from '../host/process/wasi.js';
import { built } from './common.js';

type Mode = 'answer' | 'take' | 'flood-rr' | 'echo';

const enc = new TextEncoder();
const addr = (processName: string) => ({ node: 'fake.dev', process: { processName, packageName: 'alone', publisherNode: 'bench.os' } });
const request = (body: string, expects: bigint | undefined) => ({
  tag: 'request',
  val: { inherit: false, expectsResponse: expects, body: enc.encode(body), metadata: undefined, capabilities: [] },
});
const RESPONSE = { tag: 'response', val: [{ inherit: false, body: enc.encode('pong'), metadata: undefined, capabilities: [] }, undefined] };

class Finished extends Error {}

/** Messages per second in each of `rounds` consecutive rounds of `n` messages, one instance throughout. */
export async function runAlone(
  home: string,
  mode: Mode,
  n: number,
  rounds: number,
  wasm?: { path: string; generation: 0 | 1 },
  /** preopened as TEMP_DIR, as the host does for every process (undefined: no TEMP_DIR) */
  tmpDir?: string,
): Promise<number[]> {
  const cache = new TranspileCache(join(home, 'cache', 'components'));
  const file = mode === 'echo' ? wasm?.path : built('probe-v1');
  if (!file) throw new Error('echo mode needs a component');
  const prepared = await cache.prepare(await readFile(file), mode === 'echo' ? wasm!.generation : 1, file);
  const coreModules = await prepared.compile();
  const wasi = await setupWasi(tmpDir, prepared.importKeys);
  const mod = (await import(pathToFileURL(prepared.jsPath).href)) as {
    instantiate(get: (name: string) => WebAssembly.Module, imports: Record<string, unknown>): { init(our: string): void };
  };

  const rates: number[] = [];
  let count = 0; // messages handled in this round
  let t0 = 0;
  let setupDone = false;
  let floodRunning = false;
  const endRound = () => {
    rates.push((n / (performance.now() - t0)) * 1000);
    count = 0;
    if (rates.length === rounds) throw new Finished();
    t0 = performance.now();
  };
  const setup =
    mode !== 'flood-rr'
      ? request(JSON.stringify({ op: 'autoRespond', response: { body: 'pong' }, quiet: true }), 30n)
      : request(JSON.stringify({ op: 'flood', target: 'fake.dev@b:alone:bench.os', n, window: 64, expects: 5 }), 30n);
  const plain = request('x', mode === 'answer' || mode === 'echo' ? 5n : undefined);

  const receive = () => {
    if (!setupDone && mode !== 'echo') {
      setupDone = true;
      t0 = performance.now();
      if (mode === 'flood-rr') floodRunning = true;
      return { tag: 'ok', val: [addr('driver'), setup] };
    }
    if (mode === 'flood-rr') {
      if (!floodRunning) {
        // the previous flood has replied: start the next round's flood
        floodRunning = true;
        return { tag: 'ok', val: [addr('driver'), setup] };
      }
      return { tag: 'ok', val: [addr('b'), RESPONSE] };
    }
    if (mode === 'take') {
      if (count === n) endRound();
      count++;
    }
    return { tag: 'ok', val: [addr('b'), plain] };
  };
  let commandReply = mode === 'answer' || mode === 'take'; // the autoRespond command's own reply comes first
  if (mode === 'echo') t0 = performance.now();
  const sendResponse = () => {
    if (commandReply) {
      commandReply = false;
      t0 = performance.now();
      return;
    }
    if (mode === 'answer' || mode === 'echo') {
      if (count === n) endRound();
      count++;
    } else if (mode === 'flood-rr') {
      // the flood's own reply: one round done
      floodRunning = false;
      count = n;
      endRound();
    }
  };
  const std: Record<string, unknown> = {
    printToTerminal: () => {},
    getOnExit: () => ({ tag: 'none' }),
    setOnExit: () => {},
    getState: () => undefined,
    setState: () => {},
    clearState: () => {},
    spawn: () => ({ tag: 'err', val: 'no-file-at-path' }),
    saveCapabilities: () => {},
    dropCapabilities: () => {},
    ourCapabilities: () => [],
    receive,
    getBlob: () => undefined,
    our: () => addr('a'),
    hasBlob: () => false,
    lastBlob: () => undefined,
    sendRequest: () => {},
    sendRequests: () => {},
    sendResponse,
    sendAndAwaitResponse: () => {
      throw new Error('not in this stand-in');
    },
  };
  const imports: Record<string, unknown> = {};
  for (const key of prepared.importKeys) imports[key] = key === 'kinode:process/standard' ? std : wasi.imports[key];
  const instance = mod.instantiate((name) => {
    const m = coreModules[name];
    if (!m) throw new Error(`missing core module ${name}`);
    return m;
  }, imports);
  try {
    instance.init('fake.dev@a:alone:bench.os');
  } catch (e) {
    // Finished traps the instance on purpose (thrown from an import)
    if (rates.length < rounds) throw new Error(`probe ended early: ${(e as Error).message}`);
  }
  return rates;
}
