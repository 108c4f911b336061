// The system modules a node runs besides the kernel. Each is constructed per node.

import type { SystemModule } from '../kernel/module.js';
import { TimerModule } from './timer.js';
import { createHttpServerModule, type HttpServerModuleOptions } from './http-server/index.js';
import { createHttpClientModule } from './http-client/index.js';
import { createKvModule } from './kv/index.js';
import { createSqliteModule } from './sqlite/index.js';
import { createVfsModule } from './vfs/index.js';
import { createStateModule } from './state/index.js';
import type { StateStore } from '../kernel/state-store.js';
import { createHomepageModule } from './homepage/index.js';

/** What the node hands its modules: all that http-server needs (the others need less). */
export type ModuleEnvironment = HttpServerModuleOptions & { state: StateStore; maxResponseBytes?: number | undefined };

export function createSystemModules(env: ModuleEnvironment): SystemModule[] {
  const httpServer = createHttpServerModule(env);
  return [
    new TimerModule(),
    httpServer,
    createHttpClientModule({ print: env.print, maxResponseBytes: env.maxResponseBytes, wsSendBufferBytes: env.wsSendBufferBytes }),
    createKvModule({ home: env.home }),
    createSqliteModule({ home: env.home }),
    createVfsModule({ home: env.home }),
    createStateModule(env.state),
    // after http-server: it binds its routes there when it starts
    createHomepageModule({ home: env.home, boundPaths: () => httpServer.boundPaths(), print: env.print }),
  ];
}
