// The app store (`main:app_store:sys` in v0, `main:app-store:sys` in v1), as far as kit uses it:
// NewPackage and Install (host/wire/app-store.ts), accepted only from our node, one at a time.
// Not public, as in the runtime: kit reaches it through http-server's RPC endpoint, so at boot
// http-server gets the capability to message it (and it the capability to answer http-server).
// It also installs the packages given to the CLI and to `node.install(path)`.

import type { Generation, KernelMessage, ProcessId } from '../../types.js';
import type { ModuleContext, SystemModule } from '../../kernel/module.js';
import { MESSAGING, parseProcessId } from '../../kernel/address.js';
import { APP_STORE_NAMES, HTTP_SERVER_NAMES } from '../../wire/names.js';
import { handlingError, installResponse, newPackageResponse, parseAppStoreRequest } from '../../wire/app-store.js';
import { readPackage } from '../../package/source.js';
import type { InstallResult } from '../../package/install.js';
import { install, newPackage, withExtras, type AppStoreEnv } from './actions.js';

/** Each era keeps its downloads on its own drive, as the two runtimes do. */
const storeDrive = (target: ProcessId): string => (target.packageName === 'app_store' ? 'app_store:sys' : 'app-store:sys');

export class AppStoreModule implements SystemModule {
  readonly names = APP_STORE_NAMES;
  readonly public = false;
  private ctx!: ModuleContext;
  /** one request at a time, in arrival order (installs must not interleave) */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly env: Omit<AppStoreEnv, 'say'>) {}

  start(ctx: ModuleContext): void {
    this.ctx = ctx;
    const me = parseProcessId(APP_STORE_NAMES.v1);
    const http = parseProcessId(HTTP_SERVER_NAMES.v1);
    ctx.grantCapabilities(http, [{ issuer: { node: ctx.node, process: me }, params: MESSAGING }]);
    ctx.grantCapabilities(me, [{ issuer: { node: ctx.node, process: http }, params: MESSAGING }]);
  }

  private get actionEnv(): AppStoreEnv {
    return { ...this.env, say: (line) => this.ctx.print(0, line) };
  }

  handle(km: KernelMessage, _gen: Generation): void {
    if (km.message.tag !== 'request') return;
    if (km.source.node !== this.ctx.node) {
      this.ctx.print(0, `app-store: ignoring a request from another node (${km.source.node})`);
      return;
    }
    const request = km.message.val;
    this.queue = this.queue
      .then(async () => {
        const { body, after } = await this.perform(km, request.body);
        if (request.expectsResponse !== undefined) {
          this.ctx.respond(km, { inherit: false, body: new TextEncoder().encode(body), metadata: undefined, capabilities: [] });
        }
        // the installed processes are run after the answer (as the runtime's app store does),
        // still inside the queue so the next install does not overtake them
        await after?.();
      })
      .catch((e: Error) => this.ctx.print(0, `app-store: ${e.message}`));
  }

  private async perform(km: KernelMessage, body: Uint8Array): Promise<{ body: string; after?: () => Promise<void> }> {
    let req;
    try {
      req = parseAppStoreRequest(body);
    } catch (e) {
      this.ctx.print(0, `app-store: cannot handle request: ${(e as Error).message}`);
      return { body: handlingError((e as Error).message) };
    }
    const drive = storeDrive(km.target.process);
    if (req.tag === 'NewPackage') return { body: newPackageResponse(await newPackage(this.actionEnv, drive, req.packageId, km.lazyLoadBlob?.bytes)) };
    const outcome = await install(this.actionEnv, drive, req.packageId, req.versionHash, req.witVersion);
    return { body: installResponse(outcome.reply), after: outcome.run };
  }

  /** Install a kit package folder, pkg/ folder or `<p>:<pub>.zip` and run it (CLI, tests); throws with the reason. */
  installPath(path: string): Promise<InstallResult> {
    const run = this.queue.then(async () => {
      const staged = await this.env.stage(await withExtras(await readPackage(path)));
      return { packageId: staged.packageId, processes: staged.processes, started: await staged.run() };
    });
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  stop(): void {}
}
