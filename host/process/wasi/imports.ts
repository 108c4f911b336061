// The WASI imports of one process, by jco import key, as the Kinode runtime sets a process up:
// no arguments, env TEMP_DIR, one preopened directory (its tmp dir), stdin an empty stream at its
// end, stdout discarded, stderr captured (the first 5000 bytes, for the crash report), no
// terminal, exit = the end of this process only. Plain objects over this directory's classes:
// nothing here starts a thread or loads preview2-shim.

import { createRequire } from 'node:module';
import { ProcessTrap } from '../process-host.js';
import { Descriptor, DirectoryEntryStream, filesystemErrorCode } from './filesystem.js';
import { CapturedOutput, InputStream, IoError, OutputStream, Pollable, poll } from './io.js';

const STDERR_CAPACITY = 5000;

export interface LeanWasi {
  imports: Record<string, unknown>;
  stderrText(): string;
}

/** node:crypto only for a process that asks for random bytes (componentize-js ones do). */
let crypto: typeof import('node:crypto') | undefined;
function randomBytes(len: bigint | number): Uint8Array {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.randomFillSync(new Uint8Array(Number(len)));
}
const randomU64 = (): bigint => new DataView(randomBytes(8).buffer).getBigUint64(0, true);

class TerminalInput {}
class TerminalOutput {}

const hrtime = process.hrtime;

export function leanWasi(tmpDir: string | undefined): LeanWasi {
  const env: Array<[string, string]> = tmpDir ? [['TEMP_DIR', tmpDir]] : [];
  const stdin = new InputStream();
  const stdout = new OutputStream();
  const stderr = new CapturedOutput(STDERR_CAPACITY);
  let preopens: Array<[Descriptor, string]> | undefined;
  let seed: [bigint, bigint] | undefined;

  const imports: Record<string, unknown> = {
    'wasi:cli/environment': {
      getEnvironment: () => env,
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    // wasi exit ends the instance like a trap; it must not end the worker thread
    'wasi:cli/exit': {
      exit: (status: { tag: string }) => {
        throw new ProcessTrap(`process called wasi exit (${status?.tag ?? 'ok'})`);
      },
      exitWithCode: (code: number) => {
        throw new ProcessTrap(`process called wasi exit (${code})`);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    // none: the process's stdio is not a terminal (as in the runtime, where it is not one either)
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/monotonic-clock': {
      now: () => hrtime.bigint(),
      resolution: () => 1n,
      subscribeInstant: (when: bigint) => new Pollable(BigInt(when)),
      subscribeDuration: (d: bigint) => new Pollable(hrtime.bigint() + BigInt(d)),
    },
    'wasi:clocks/wall-clock': {
      now: () => {
        const ms = Date.now();
        return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1e6 };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1e6 }),
    },
    'wasi:filesystem/preopens': {
      // the same descriptor each time, created on first use (wasi-libc asks once, at start)
      getDirectories: () => (preopens ??= tmpDir ? [[Descriptor.preopen(tmpDir), tmpDir]] : []),
    },
    'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => (seed ??= [randomU64(), randomU64()]) },
  };
  return { imports, stderrText: () => stderr.text() };
}
