// The runtime's tester (`tester:tester:sys`, public, the same name in both eras), as kit's
// `run-tests` drives it: it keeps the drives `/tester:sys/setup` and `/tester:sys/tests`
// (http-server may write both, so kit can upload through the RPC endpoint) and answers `Run`
// by spawning each named test from the tests drive as `<random u64>:tester:sys` with the
// capabilities of `capabilities.json` plus its own, forwarding `Run` to it and answering with
// the first failure or Ok (host/modules/tester/run.ts). Runs are handled one at a time.

import { mkdirSync } from 'node:fs';
import type { Capability, Generation, KernelMessage, ProcessId } from '../../types.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import type { ProcessSpec } from '../../kernel/kernel-options.js';
import { MESSAGING, parseProcessId } from '../../kernel/address.js';
import type { Drive } from '../../package/drive.js';
import { driveCap } from '../../package/install.js';
import { HTTP_SERVER_NAMES, TESTER_NAMES, VFS_NAMES } from '../../wire/names.js';
import { runErr } from '../../wire/tester.js';
import { runTests, SETUP_DRIVE, TESTS_DRIVE, type ChildReply } from './run.js';

/** What the tester needs from the kernel besides messaging: start and end its test processes. */
export interface ProcessControl {
  /** initialize with `caps` and run; false (printed) when the component cannot start */
  spawn(spec: ProcessSpec, caps: Capability[]): Promise<boolean>;
  kill(pid: ProcessId): Promise<void>;
}

export class TesterModule implements SystemModule {
  readonly names = TESTER_NAMES;
  readonly public = true;
  private ctx!: ModuleContext;
  private queue: Promise<void> = Promise.resolve();
  /** Run requests sent to test processes, by message id */
  private readonly waiting = new Map<bigint, (r: ChildReply) => void>();
  private readonly exitWatch = new Map<string, () => void>();

  constructor(private readonly drive: Drive, private readonly control: ProcessControl) {}

  start(ctx: ModuleContext): void {
    this.ctx = ctx;
    const me = parseProcessId(TESTER_NAMES.v1);
    const http = parseProcessId(HTTP_SERVER_NAMES.v1);
    for (const d of [SETUP_DRIVE, TESTS_DRIVE]) {
      const host = this.drive.hostPath(d);
      if (host) mkdirSync(host, { recursive: true });
      // as the runtime's tester grants http-server write on both drives (kit uploads through RPC)
      ctx.grantCapabilities(http, [driveCap(ctx.node, 'write', d)]);
      ctx.grantCapabilities(me, [driveCap(ctx.node, 'read', d), driveCap(ctx.node, 'write', d)]);
    }
    ctx.grantCapabilities(me, [{ issuer: { node: ctx.node, process: http }, params: MESSAGING }]);
    // kit run-tests reaches vfs through the RPC endpoint (its boot probe and its uploads); the
    // runtime's RPC path is not capability-checked, ours sends as http-server, which therefore
    // needs vfs's messaging capability for kit's flow to work
    ctx.grantCapabilities(http, [{ issuer: { node: ctx.node, process: parseProcessId(VFS_NAMES.v1) }, params: MESSAGING }]);
    ctx.onProcessExit((pid) => this.exitWatch.get(`${pid.processName}:${pid.packageName}:${pid.publisherNode}`)?.());
  }

  handle(km: KernelMessage, _gen: Generation): void {
    if (km.message.tag === 'response') {
      const w = this.waiting.get(km.id);
      if (w) {
        this.waiting.delete(km.id);
        w({ kind: 'response', body: km.message.val[0].body });
      }
      return;
    }
    const request = km.message.val;
    if (request.expectsResponse === undefined) {
      this.ctx.print(0, 'tester: ignoring a request that expects no response');
      return;
    }
    this.queue = this.queue
      .then(async () => {
        let body: string;
        try {
          body = await runTests(this.runEnv(), request.body);
        } catch (e) {
          this.ctx.print(0, `tester: error: ${(e as Error).message}`);
          body = runErr({ test: 'tester', file: 'tester:tester:sys', line: 0, column: 0 });
        }
        this.ctx.respond(km, { inherit: false, body: new TextEncoder().encode(body), metadata: undefined, capabilities: [] });
      })
      .catch((e: Error) => this.ctx.print(0, `tester: ${e.message}`));
  }

  private runEnv() {
    const me = parseProcessId(TESTER_NAMES.v1);
    return {
      node: this.ctx.node,
      drive: this.drive,
      say: (line: string) => this.ctx.print(0, line),
      spawn: async (spec: ProcessSpec, caps: Capability[]) => {
        // the tester may message its (non-public) test process, as a parent may its child
        this.ctx.grantCapabilities(me, [{ issuer: { node: this.ctx.node, process: spec.pid }, params: MESSAGING }]);
        return this.control.spawn(spec, caps);
      },
      grant: (holder: ProcessId, caps: Capability[]) => this.ctx.grantCapabilities(holder, caps),
      kill: (pid: ProcessId) => this.control.kill(pid),
      ask: (pid: ProcessId, body: Uint8Array, timeoutS: number) => this.ask(pid, body, timeoutS),
    };
  }

  /** Send `body` to a test process and wait for its response, its exit, or the timeout. */
  private ask(pid: ProcessId, body: Uint8Array, timeoutS: number): Promise<ChildReply> {
    const key = `${pid.processName}:${pid.packageName}:${pid.publisherNode}`;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let grace: NodeJS.Timeout | undefined;
      const done = (r: ChildReply) => {
        clearTimeout(timer);
        clearTimeout(grace);
        this.waiting.delete(id);
        this.exitWatch.delete(key);
        resolve(r);
      };
      const id = this.ctx.send({
        target: { node: this.ctx.node, process: pid },
        rsvp: { node: this.ctx.node, process: parseProcessId(TESTER_NAMES.v1) },
        message: { tag: 'request', val: { inherit: false, expectsResponse: BigInt(timeoutS), body, metadata: undefined, capabilities: [] } },
      });
      this.waiting.set(id, done);
      timer = setTimeout(() => done({ kind: 'timeout' }), Math.min(timeoutS * 1000, 2 ** 31 - 1));
      // a test that answers and then panics (kit's `fail!`) ends right after its response:
      // give that response a moment to arrive before calling the exit a failure of its own
      this.exitWatch.set(key, () => {
        grace = setTimeout(() => done({ kind: 'exited' }), 1000);
      });
    });
  }

  stop(): void {
    for (const w of this.waiting.values()) w({ kind: 'timeout' });
    this.waiting.clear();
  }
}
