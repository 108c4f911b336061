#!/usr/bin/env node
// `npm start`: compile only if the TypeScript changed, build only the component the demo runs
// (storage-v1, cached), then boot a node with the demo package. Every step that can take more
// than a second says so before it starts.

import { spawnSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const step = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

step([join(ROOT, 'scripts', 'build.mjs')]);
step([join(ROOT, 'components', 'build.mjs'), '--if-missing', '--only', 'storage-v1']);
const extra = process.argv.slice(2);
const node = spawn(process.execPath, [join(ROOT, 'dist', 'host', 'cli', 'main.js'), 'run', join(ROOT, 'components', 'demo'), ...extra], {
  cwd: ROOT,
  stdio: 'inherit',
});
// The node handles SIGINT/SIGTERM itself and stops once, whichever comes first. A terminal's
// Ctrl-C reaches both of us; a supervisor's SIGTERM (systemd, `docker stop`, `kill <pid>`)
// reaches only this wrapper, so pass it on, and exit when the node has.
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => {
  if (node.exitCode === null && node.signalCode === null) node.kill(s);
});
node.on('exit', (code) => process.exit(code ?? 1));
