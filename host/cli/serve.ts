// Boot a node for the CLI and keep it until it is told to stop: SIGINT, SIGTERM, or Ctrl-C /
// Ctrl-D on stdin (unless detached). Prints progress when booting takes more than a second,
// then exactly one `kinode-host listening on ...` line once the stop handlers are in place.

import { PackageInstallError, PortInUseError, startNode, type KinodeNode, type NodeOptions } from '../node.js';
import { stopOnStdinControl } from './stdin-stop.js';

export interface ServeOptions extends NodeOptions {
  /** do not read stdin (the runtime's `--detached`) */
  detached?: boolean;
}

/** Print `line` if `work` is still running after a second (the first boot transpiles components). */
export async function withProgress<T>(line: string, work: Promise<T>): Promise<T> {
  const t = setTimeout(() => process.stdout.write(`${line}\n`), 1000);
  try {
    return await work;
  } finally {
    clearTimeout(t);
  }
}

export async function serve(o: ServeOptions): Promise<KinodeNode> {
  let node: KinodeNode;
  const started = Date.now();
  try {
    node = await withProgress(
      `kinode-host: booting ${o.nodeName ?? 'fake.dev'} in ${o.home} (a first boot compiles each component once; this can take a while)...`,
      startNode({ ...o, strictPackages: true }),
    );
  } catch (e) {
    const msg = e instanceof PortInUseError || e instanceof PackageInstallError ? e.message : ((e as Error).stack ?? String(e));
    process.stderr.write(`kinode-host: ${msg}\n`);
    process.exit(1);
  }
  let stopping = false;
  let restoreStdin = (): void => {};
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    restoreStdin();
    if ((o.verbosity ?? 0) >= 1) process.stdout.write(`kinode-host: stopping (${why})\n`);
    await node.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (!o.detached) restoreStdin = stopOnStdinControl((why) => void shutdown(why));
  const elapsed = Date.now() - started;
  if (elapsed > 1000) process.stdout.write(`kinode-host: booted in ${(elapsed / 1000).toFixed(1)} s\n`);
  // printed only once the stop handlers are in place: a signal right after it must not kill us
  const host = o.host ?? '127.0.0.1';
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  process.stdout.write(`kinode-host listening on http://${shown}:${node.port}\n`);
  return node;
}
