#!/usr/bin/env node
// kinode-host CLI. Three forms:
//   kinode-host run <package>... [options]     our own: boot and install packages
//   kinode-host <home> [runtime flags]         the Kinode runtime's argument list (what kit runs)
//   kinode-host test [tests.toml]              run a kit package's tests (kit's tests.toml)
// and `kinode-host --version`, which prints the one line `kinode X.Y.Z` kit parses.

import { Command, InvalidArgumentError, Option } from 'commander';
import { serve } from './serve.js';
import { RUNTIME_VERSION, addRuntimeFlags, runtimeBootOptions } from './runtime-args.js';
import { runTestsCommand } from './test-command.js';

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
  return n;
};

const program = new Command()
  .name('kinode-host')
  .description('Run Kinode processes (process-v0 / process-v1 components) on Node.js')
  // kit reads this line: kit 0.8.5 takes the second-to-last line, kit 0.9.1 the first
  .version(`kinode ${RUNTIME_VERSION}`, '-V, --version', 'print `kinode <version>` (the runtime version whose behaviour we follow)')
  .addHelpText(
    'after',
    "\nThe Kinode runtime's form (what kit runs):\n  kinode-host <home> [--port N] [--verbosity V] [--password PW] [--fake-node-name NAME] [runtime flags]\n" +
      '  (kinode-host boot --help lists them; a home named like a command is given as ./run, ./test)',
  );

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
  .option('--max-processes-per-package <n>', 'live processes per package; spawn past it fails', int(1, 2 ** 31 - 1), 256)
  .option('--max-processes <n>', 'live processes on the node; spawn past it fails', int(1, 2 ** 31 - 1), 4096)
  .option('--max-process-memory <MiB>', 'per process: wasm memory and JS heap cap', int(16, 65536), 512)
  .option('--max-body-inflight <bytes>', 'request-body bytes held at once; more uploads wait (default 128 MiB)', int(1, 2 ** 53 - 1))
  .option('--max-ws-frame <bytes>', 'largest WebSocket message from a client (default 16 MiB)', int(1, 2 ** 31 - 1))
  .option('--ws-send-buffer <bytes>', 'bytes queued to a WebSocket peer (a client of the node, or the server of a process channel) before it is closed as not reading (default 16 MiB)', int(1, 2 ** 53 - 1))
  .option('--ws-frame-timeout <seconds>', 'time a client gets to finish a WebSocket message (default 30)', int(1, 86400))
  .option('--max-binds <n>', 'HTTP and WebSocket bindings one process may hold (default 10000)', int(1, 2 ** 31 - 1))
  .option('--max-response <bytes>', 'largest http-client response body (default 64 MiB)', int(0, 2 ** 53 - 1))
  .option('-d, --detached', 'do not read stdin (Ctrl-C / Ctrl-D there stop the node otherwise)')
  .action(async (packages: string[], o: Record<string, unknown>) => {
    await serve({
      home: o.home as string,
      port: o.port as number | undefined,
      host: o.host as string,
      nodeName: o.node as string,
      password: o.password as string | undefined,
      verbosity: o.verbosity as number,
      packages,
      httpTimeoutMs: (o.httpTimeout as number) * 1000,
      maxBodyBytes: o.maxBody as number,
      maxProcessesPerPackage: o.maxProcessesPerPackage as number,
      maxProcesses: o.maxProcesses as number,
      maxProcessMemoryBytes: (o.maxProcessMemory as number) * 2 ** 20,
      maxBodyInflightBytes: o.maxBodyInflight as number | undefined,
      maxWsFrameBytes: o.maxWsFrame as number | undefined,
      wsSendBufferBytes: o.wsSendBuffer as number | undefined,
      wsFrameTimeoutMs: o.wsFrameTimeout === undefined ? undefined : (o.wsFrameTimeout as number) * 1000,
      maxBindingsPerProcess: o.maxBinds as number | undefined,
      maxResponseBytes: o.maxResponse as number | undefined,
      detached: o.detached === true,
    });
  });

program
  .command('test')
  .description("run a package's tests as `kit run-tests` does, from kit's tests.toml, with the pkg/ folders kit built (builds nothing)")
  .argument('[tests]', 'tests.toml, or a folder holding tests.toml or test/tests.toml', '.')
  .option('--verbosity <n>', 'show the test nodes\' prints up to this verbosity', int(0, 3), 0)
  .option('--keep-homes', 'keep the test nodes\' homes (default: as tests.toml\'s persist_home)')
  .action(async (tests: string, o: Record<string, unknown>) => {
    process.exit(await runTestsCommand(tests, { verbosity: o.verbosity as number, keepHomes: o.keepHomes === true }));
  });

const boot = program
  .command('boot', { isDefault: true, hidden: true })
  .description("the Kinode runtime's command line: kinode-host <home> [flags]")
  .argument('<home>', 'node home (created if missing)')
  .addOption(new Option('--host <addr>', 'address to bind (kinode-host)').default('127.0.0.1'))
  .addOption(new Option('--http-timeout <seconds>', 'how long an HTTP request waits for its process (kinode-host)').argParser(int(1, 3600)).default(15))
  .addOption(new Option('--max-body <bytes>', 'largest accepted HTTP request body (kinode-host)').argParser(int(0, 2 ** 31 - 1)).default(64 * 1024 * 1024));
addRuntimeFlags(boot, int);
boot.action(async (home: string, o: Record<string, unknown>) => {
  const { options, ignored } = runtimeBootOptions(home, o);
  if (options.verbosity! >= 1) for (const line of ignored) process.stdout.write(`kinode-host: ${line}\n`);
  await serve({
    ...options,
    host: o.host as string,
    httpTimeoutMs: (o.httpTimeout as number) * 1000,
    maxBodyBytes: o.maxBody as number,
  });
});

await program.parseAsync(process.argv);
