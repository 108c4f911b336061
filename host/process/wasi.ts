// WASI for one process, from preview2-shim: the environment the Kinode runtime gives
// (no args, TEMP_DIR, one preopened tmp dir, stdin empty, stdout discarded, stderr captured
// in a small buffer for the crash report). Module state is per worker, so per process.

import { WASI_INTERFACES } from '../loader/wasi-interfaces.js';
import { ProcessTrap } from './process-host.js';

const STDERR_CAPACITY = 5000;

export interface ProcessWasi {
  imports: Record<string, unknown>;
  stderrText(): string;
}

let shim: Record<string, Record<string, unknown>> | undefined;

/** Import the shim once per worker, before a process is assigned to it. */
export async function loadWasiShim(): Promise<void> {
  shim ??= (await import('@bytecodealliance/preview2-shim')) as unknown as Record<string, Record<string, unknown>>;
  await import('@bytecodealliance/preview2-shim/cli');
  await import('@bytecodealliance/preview2-shim/filesystem');
}

export async function setupWasi(tmpDir: string | undefined): Promise<ProcessWasi> {
  await loadWasiShim();
  const wasiShim = shim!;
  const cli = (await import('@bytecodealliance/preview2-shim/cli')) as unknown as {
    _setEnv(env: Record<string, string>): void;
    _setArgs(args: string[]): void;
  };
  const fs = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as {
    _setPreopens(p: Record<string, string>): void;
  };
  cli._setArgs([]);
  cli._setEnv(tmpDir ? { TEMP_DIR: tmpDir } : {});
  fs._setPreopens(tmpDir ? { [tmpDir]: tmpDir } : {});

  // the shim writes guest stdout/stderr straight to this thread's process streams
  let stderr = Buffer.alloc(0);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    if (stderr.length < STDERR_CAPACITY) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
      stderr = Buffer.concat([stderr, b]).subarray(0, STDERR_CAPACITY);
    }
    return true;
  }) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;

  const imports: Record<string, unknown> = {};
  for (const [key, [ns, member]] of Object.entries(WASI_INTERFACES)) {
    imports[key] = wasiShim[ns]?.[member];
  }
  // wasi exit ends the instance like a trap; it must not end the worker thread
  imports['wasi:cli/exit'] = {
    exit: (status: { tag: string }) => {
      throw new ProcessTrap(`process called wasi exit (${status?.tag ?? 'ok'})`);
    },
    exitWithCode: (code: number) => {
      throw new ProcessTrap(`process called wasi exit (${code})`);
    },
  };
  return { imports, stderrText: () => stderr.toString('utf8') };
}
