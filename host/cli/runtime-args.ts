// The Kinode runtime's command line (kinode/src/main.rs, clap), as kit launches it:
// `<home> --port P --verbosity V [--rpc URL] --password PW --fake-node-name NAME
// --fakechain-port P`. Every runtime flag is accepted; those that mean nothing on a single
// node without a chain are listed back so the CLI can say (at verbosity >= 1) they are ignored.

import { Option, type Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ServeOptions } from './serve.js';

/**
 * The runtime version whose behaviour kinode-host follows (process-v1 is Kinode 1.0; v0
 * components run too). Both kit 0.8.5 and 0.9.1 parse `kinode 1.0.0`, and both pick the same
 * anvil state for it as for 0.9.10 (`>=0.9.8`).
 */
export const RUNTIME_VERSION = '1.0.0';

type IntParser = (min: number, max: number) => (v: string) => number;

/** Flags accepted and ignored, with why. */
const IGNORED: Array<[flag: string, key: string, why: string]> = [
  ['--ws-port', 'wsPort', 'no networking between nodes'],
  ['--tcp-port', 'tcpPort', 'no networking between nodes'],
  ['--reveal-ip', 'revealIp', 'no networking between nodes'],
  ['--rpc', 'rpc', 'no ETH provider: there is no chain'],
  ['--fakechain-port', 'fakechainPort', 'no chain: the node name is not minted'],
  ['--logging-off', 'loggingOff', 'no terminal log files are written'],
  ['--max-log-size', 'maxLogSize', 'no terminal log files are written'],
  ['--number-log-files', 'numberLogFiles', 'no terminal log files are written'],
  ['--max-peers', 'maxPeers', 'no networking between nodes'],
  ['--max-passthroughs', 'maxPassthroughs', 'no networking between nodes'],
  ['--soft-ulimit', 'softUlimit', 'no file-descriptor manager'],
  ['--process-verbosity', 'processVerbosity', 'per-process verbosity is not implemented; --verbosity applies to all'],
];

export function addRuntimeFlags(cmd: Command, int: IntParser): Command {
  return cmd
    .option('-p, --port <port>', 'HTTP port (exactly this one); default: first free from 8080', int(1, 65535))
    .option('-v, --verbosity <n>', 'terminal verbosity 0-3', int(0, 3), 0)
    .option('--password <pw>', 'login password (default: generated and printed once)')
    .option('--fake-node-name <name>', 'node name (.dev appended when it has no dot); default fake.dev')
    .option('-d, --detached', 'do not read stdin (Ctrl-C / Ctrl-D there stop the node otherwise)')
    .addOption(new Option('--ws-port <port>', 'ignored').argParser(int(0, 65535)))
    .addOption(new Option('--tcp-port <port>', 'ignored').argParser(int(0, 65535)))
    .addOption(new Option('--reveal-ip [bool]', 'ignored'))
    .addOption(new Option('--rpc <url>', 'ignored'))
    .addOption(new Option('--fakechain-port <port>', 'ignored').argParser(int(0, 65535)))
    .addOption(new Option('-l, --logging-off', 'ignored'))
    .addOption(new Option('--max-log-size <bytes>', 'ignored'))
    .addOption(new Option('--number-log-files <n>', 'ignored'))
    .addOption(new Option('--max-peers <n>', 'ignored'))
    .addOption(new Option('--max-passthroughs <n>', 'ignored'))
    .addOption(new Option('--soft-ulimit <n>', 'ignored'))
    .addOption(new Option('--process-verbosity <json>', 'ignored'));
}

/** `--fake-node-name`: `.dev` appended when there is no dot, as kit and the runtime do. */
export const fakeNodeName = (name: string): string => (name.includes('.') ? name : `${name}.dev`);

export function runtimeBootOptions(home: string, o: Record<string, unknown>): { options: ServeOptions; ignored: string[] } {
  const dir = resolve(home);
  mkdirSync(dir, { recursive: true }); // the runtime creates the home, then canonicalizes it
  const ignored = IGNORED.filter(([, key]) => o[key] !== undefined).map(([flag, , why]) => `ignoring ${flag} (${why})`);
  return {
    options: {
      home: dir,
      port: o.port as number | undefined,
      verbosity: o.verbosity as number,
      password: o.password as string | undefined,
      nodeName: fakeNodeName((o.fakeNodeName as string | undefined) ?? 'fake.dev'),
      detached: o.detached === true,
    },
    ignored,
  };
}
