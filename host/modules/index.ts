// The system modules a node runs besides the kernel. Each is constructed per node.

import type { Server } from 'node:http';
import type { SystemModule } from '../kernel/module.js';
import { TimerModule } from './timer.js';
import { createHttpServerModule } from './http-server/index.js';
import { createHttpClientModule } from './http-client/index.js';

export interface ModuleEnvironment {
  server: Server;
  home: string;
  nodeName: string;
  password: string | undefined;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  print: (line: string) => void;
}

export function createSystemModules(env: ModuleEnvironment): SystemModule[] {
  return [
    new TimerModule(),
    createHttpServerModule({
      server: env.server,
      home: env.home,
      nodeName: env.nodeName,
      password: env.password,
      requestTimeoutMs: env.requestTimeoutMs,
      maxBodyBytes: env.maxBodyBytes,
      print: env.print,
    }),
    createHttpClientModule({ print: env.print }),
  ];
}
