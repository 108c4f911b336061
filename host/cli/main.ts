#!/usr/bin/env node
// kinode-host CLI: `kinode-host run <package>... [options]`.

import { Command, InvalidArgumentError } from 'commander';
import { PortInUseError, startNode } from '../node.js';

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
  return n;
};

const program = new Command()
  .name('kinode-host')
  .description('Run Kinode processes (process-v0 / process-v1 components) on Node.js');

program
  .command('run')
  .description('boot a node and install the given packages (kit package folders, pkg/ folders or <package>:<publisher>.zip)')
  .argument('[packages...]', 'packages to install at boot')
  .option('--home <dir>', 'node home: state, drives, caches', './home')
  .option('--port <n>', 'HTTP port (exactly this one); default: first free from 8080', int(1, 65535))
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option('--node <name>', 'node name', 'fake.dev')
  .option('--password <pw>', 'login password (default: generated and printed once)')
  .option('--verbosity <n>', 'terminal verbosity 0-3', int(0, 3), 0)
  .option('--http-timeout <seconds>', 'how long an HTTP request waits for its process', int(1, 3600), 15)
  .option('--max-body <bytes>', 'largest accepted HTTP request body', int(0, 2 ** 31 - 1), 64 * 1024 * 1024)
  .option('--max-body-inflight <bytes>', 'request-body bytes held at once; more uploads wait (default 128 MiB)', int(1, 2 ** 53 - 1))
  .option('--max-ws-frame <bytes>', 'largest WebSocket message from a client (default 16 MiB)', int(1, 2 ** 31 - 1))
  .option('--ws-send-buffer <bytes>', 'bytes queued to a WebSocket client before it is closed as not reading (default 16 MiB)', int(1, 2 ** 53 - 1))
  .option('--ws-frame-timeout <seconds>', 'time a client gets to finish a WebSocket message (default 30)', int(1, 86400))
  .option('--max-binds <n>', 'HTTP and WebSocket bindings one process may hold (default 10000)', int(1, 2 ** 31 - 1))
  .option('--max-response <bytes>', 'largest http-client response body (default 64 MiB)', int(0, 2 ** 53 - 1))
  .action(async (packages: string[], o: Record<string, unknown>) => {
    let node;
    try {
      node = await startNode({
        home: o.home as string,
        port: o.port as number | undefined,
        host: o.host as string,
        nodeName: o.node as string,
        password: o.password as string | undefined,
        verbosity: o.verbosity as number,
        packages,
        httpTimeoutMs: (o.httpTimeout as number) * 1000,
        maxBodyBytes: o.maxBody as number,
        maxBodyInflightBytes: o.maxBodyInflight as number | undefined,
        maxWsFrameBytes: o.maxWsFrame as number | undefined,
        wsSendBufferBytes: o.wsSendBuffer as number | undefined,
        wsFrameTimeoutMs: o.wsFrameTimeout === undefined ? undefined : (o.wsFrameTimeout as number) * 1000,
        maxBindingsPerProcess: o.maxBinds as number | undefined,
        maxResponseBytes: o.maxResponse as number | undefined,
      });
    } catch (e) {
      const msg = e instanceof PortInUseError ? e.message : ((e as Error).stack ?? String(e));
      process.stderr.write(`kinode-host: ${msg}\n`);
      process.exit(1);
    }
    let stopping = false;
    const shutdown = async (): Promise<void> => {
      if (stopping) return;
      stopping = true;
      await node.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown());
    process.on('SIGTERM', () => void shutdown());
    // printed only once the signal handlers are in place: a signal right after it must not kill us
    const shown = (o.host as string) === '0.0.0.0' ? '127.0.0.1' : (o.host as string);
    process.stdout.write(`kinode-host listening on http://${shown}:${node.port}\n`);
  });

await program.parseAsync(process.argv);
