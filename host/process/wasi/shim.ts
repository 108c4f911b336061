// WASI from preview2-shim, only for a process that imports wasi:sockets (the lean layer in this
// directory has no sockets, and the shim's socket streams must be the shim's own stream classes,
// which jco's glue checks with instanceof). The same environment as the lean layer: no args,
// TEMP_DIR, one preopened tmp dir, stdin empty, stdout discarded, stderr captured for the crash
// report. Loaded into the worker of such a process only; module state is per worker.

import { WASI_INTERFACES } from '../../loader/wasi-interfaces.js';
import { ProcessTrap } from '../process-host.js';
import { withLazyIoThread } from './lazy-io-thread.js';

const STDERR_CAPACITY = 5000;

export interface ProcessWasi {
  imports: Record<string, unknown>;
  stderrText(): string;
}

let shim: Record<string, Record<string, unknown>> | undefined;

/**
 * Import the shim once per worker, before a process is assigned to it. Its I/O helper thread
 * starts only when a call needs it (lazy-io-thread.ts): most processes never do.
 */
async function loadWasiShim(): Promise<void> {
  if (shim) return;
  shim = await withLazyIoThread(async () => ({
    cli: (await import('@bytecodealliance/preview2-shim/cli')) as unknown as Record<string, unknown>,
    clocks: (await import('@bytecodealliance/preview2-shim/clocks')) as unknown as Record<string, unknown>,
    filesystem: (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as Record<string, unknown>,
    io: (await import('@bytecodealliance/preview2-shim/io')) as unknown as Record<string, unknown>,
    random: (await import('@bytecodealliance/preview2-shim/random')) as unknown as Record<string, unknown>,
  }));
}

/** wasi:sockets (the shim's largest module, and unused by most processes) only when imported. */
async function loadSockets(): Promise<void> {
  if (shim!.sockets) return;
  shim!.sockets = await withLazyIoThread(
    async () => (await import('@bytecodealliance/preview2-shim/sockets')) as unknown as Record<string, unknown>,
  );
}

/**
 * Stdin as the runtime gives it: empty, at end of stream. The shim's own stdin is a stream in
 * its I/O helper thread, and the preview1 adapter fetches stdin while setting up its descriptor
 * table (in wasi-libc's constructors, so in every Rust process): that one call would start the
 * helper thread in every worker. The object must be an instance of the shim's InputStream (the
 * glue checks); its methods, all of which would reach the helper, are replaced.
 */
function emptyStdin(wasiShim: Record<string, Record<string, unknown>>): unknown {
  const streams = wasiShim.io!.streams as { InputStream: { prototype: object } };
  const clock = wasiShim.clocks!.monotonicClock as { subscribeDuration(d: bigint): unknown };
  const stdin = Object.create(streams.InputStream.prototype) as Record<string | symbol, unknown>;
  const closed = (): never => {
    throw { tag: 'closed' };
  };
  stdin.read = closed;
  stdin.blockingRead = closed;
  stdin.skip = closed;
  stdin.blockingSkip = closed;
  // always ready (a zero-length wait; only this starts the helper thread, and only if used)
  stdin.subscribe = () => clock.subscribeDuration(0n);
  stdin[Symbol.dispose] = () => {};
  return stdin;
}

export async function shimWasi(tmpDir: string | undefined, importKeys: string[]): Promise<ProcessWasi> {
  await loadWasiShim();
  if (importKeys.some((k) => k.startsWith('wasi:sockets/'))) await loadSockets();
  const wasiShim = shim!;
  const cli = (await import('@bytecodealliance/preview2-shim/cli')) as unknown as {
    _setEnv(env: Record<string, string>): void;
    _setArgs(args: string[]): void;
    _setStdin(stream: unknown): void;
  };
  const fs = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as {
    _setPreopens(p: Record<string, string>): void;
  };
  cli._setArgs([]);
  cli._setStdin(emptyStdin(wasiShim));
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
