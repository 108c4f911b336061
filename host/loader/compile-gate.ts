// Compiling a core module, with V8's validation of function bodies skipped where it is known to
// pass. Compiling the 12 MB SpiderMonkey module of a componentize-js process is mostly that
// validation: ~60 ms of a warm start here, ~14 ms without it (docs/performance.md §37). V8 can
// defer it (`--wasm-lazy-validation`: each body is validated when it is first compiled, at its
// first call), but only as a process-wide flag, and a body that fails that late validation after
// the flag has been switched off again is a fatal V8 CHECK that ends the whole node.
//
// So: bytes are "trusted" only when an earlier compile of exactly those bytes, with every body
// validated, succeeded under the same V8 (the transpile cache records it: transpile-cache.ts).
// The flag is on only while trusted compiles are in flight, and no other compile runs meanwhile:
// an untrusted compile waits until the flag is off again, and a trusted compile that finds an
// untrusted one in flight validates eagerly instead. V8 reads the flag during the asynchronous
// compile, not when it is called, which is why the flag stays on until the compile has settled.

import { setFlagsFromString } from 'node:v8';

/**
 * Modules up to this size are compiled synchronously on the calling (kernel) thread. With V8's
 * lazy compilation a compile is a decode and a validation, ~0.1 ms for a 78 KB Rust module here;
 * `WebAssembly.compile` of the same module took 5-7 ms in a node that had just started a
 * componentize-js process, because its compile jobs queue on V8's background threads behind
 * that process's tier-up of its 12 MB module (docs/performance.md, "Rust start"). Larger modules
 * (SpiderMonkey: 12 MB) stay asynchronous so the kernel keeps serving meanwhile; 1 MiB blocks
 * the kernel thread for a few milliseconds at most.
 */
export const SYNC_COMPILE_MAX = 1 << 20;

/** trusted compiles in flight: the flag is on while this is above 0 */
let lazy = 0;
/** untrusted asynchronous compiles in flight */
let eager = 0;
/** settles when `lazy` has gone back to 0 and the flag is off */
let flagOff: Promise<void> | undefined;
let turnedOff: (() => void) | undefined;

/** Compile `bytes` with every function body validated now; small modules synchronously. */
export function compileValidating(bytes: Uint8Array): WebAssembly.Module | Promise<WebAssembly.Module> {
  if (lazy > 0) return flagOff!.then(() => compileValidating(bytes));
  if (bytes.length <= SYNC_COMPILE_MAX) return new WebAssembly.Module(bytes);
  eager++;
  return WebAssembly.compile(bytes).finally(() => eager--);
}

/**
 * Compile bytes that compiled before with every body validated, under this same V8: their bodies
 * are validated at first call instead (where a failure would be a V8 CHECK, which is why only
 * such bytes come here). Small modules gain nothing and take the validating path.
 */
export function compileTrusted(bytes: Uint8Array): WebAssembly.Module | Promise<WebAssembly.Module> {
  if (eager > 0 || bytes.length <= SYNC_COMPILE_MAX) return compileValidating(bytes);
  if (lazy++ === 0) {
    setFlagsFromString('--wasm-lazy-validation');
    flagOff = new Promise((resolve) => (turnedOff = resolve));
  }
  return WebAssembly.compile(bytes).finally(() => {
    if (--lazy > 0) return;
    setFlagsFromString('--no-wasm-lazy-validation');
    turnedOff!();
  });
}

/** What a trusted-bytes record must match: the V8 that validated them. */
export const VALIDATED_BY = `v8-${process.versions.v8}`;
