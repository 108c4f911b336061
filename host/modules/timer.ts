// timer:distro:sys — public; `{"SetTimer": <ms>}` with expects-response gets an empty Response
// after that many milliseconds (0: at once). Requests without expects-response set no timer.
// Like the runtime's, its Responses pass the kernel's capability check, so a process must
// grant it messaging to hear back.

import type { Generation, KernelMessage } from '../types.js';
import type { ModuleContext, SystemModule } from '../kernel/module.js';
import { TIMER_NAMES } from '../wire/names.js';

export class TimerModule implements SystemModule {
  readonly names = TIMER_NAMES;
  readonly public = true;
  private ctx!: ModuleContext;
  private readonly timers = new Set<NodeJS.Timeout>();

  start(ctx: ModuleContext): void {
    this.ctx = ctx;
  }

  handle(km: KernelMessage, _gen: Generation): void {
    if (km.source.node !== this.ctx.node || km.message.tag !== 'request') return;
    let action: unknown;
    try {
      action = JSON.parse(new TextDecoder().decode(km.message.val.body));
    } catch {
      action = undefined;
    }
    if (action === 'Debug') {
      this.ctx.print(0, `timer service active timers (${this.timers.size})`);
      return;
    }
    const ms = (action as { SetTimer?: unknown } | undefined)?.SetTimer;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0) {
      this.ctx.print(1, 'timer service received a request with an invalid body');
      return;
    }
    if (km.message.val.expectsResponse === undefined) return;
    const fire = (): void => this.ctx.respond(km, { inherit: false, body: new Uint8Array(), metadata: undefined, capabilities: [] });
    if (ms === 0) return fire();
    const t = setTimeout(() => {
      this.timers.delete(t);
      fire();
    }, Math.min(ms, 2 ** 31 - 1));
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
