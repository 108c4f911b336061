// The system modules a node runs besides the kernel. Each is constructed per node.

import type { Server } from 'node:http';
import type { SystemModule } from '../kernel/module.js';
import { TimerModule } from './timer.js';

export interface ModuleEnvironment {
  server: Server;
  home: string;
  nodeName: string;
  password: string | undefined;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  print: (line: string) => void;
}

export function createSystemModules(_env: ModuleEnvironment): SystemModule[] {
  return [new TimerModule()];
}
