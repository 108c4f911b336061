// `npm start` (scripts/start.mjs) as a user or a supervisor sees it: the wrapper boots a node with
// the demo package, the demo answers on 127.0.0.1, and a SIGTERM sent to the wrapper's PID alone
// (systemd, `docker stop`, `kill <pid>`) stops the node too, not only the wrapper's wait for it.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cleanupTempDirs, closedPort, tempDir } from './helpers.js';

const START = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));

after(() => cleanupTempDirs());

/** Children of `pid` (Linux), to clean up after a failed run. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('npm start', () => {
  it('serves the demo, and a SIGTERM to the wrapper alone stops the node', async () => {
    const port = await closedPort();
    const home = tempDir('kh-start-');
    const wrapper = spawn(process.execPath, [START, '--home', home, '--port', String(port), '-d'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    wrapper.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    wrapper.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => wrapper.on('exit', (code) => res(code)));
    let nodePids: number[] = [];
    try {
      const deadline = Date.now() + 180_000;
      while (!out.includes(`listening on http://127.0.0.1:${port}`)) {
        if (Date.now() > deadline || wrapper.exitCode !== null) assert.fail(`the node did not come up:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      nodePids = childrenOf(wrapper.pid!);
      assert.equal(nodePids.length, 1, `the wrapper runs one node: ${nodePids.join(' ')}`);

      wrapper.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 30_000))]);
      assert.equal(code, 0, `the wrapper after SIGTERM: ${code}\n${out}`);
      // the node is gone with it: its port refuses connections and its PID no longer runs
      await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
      assert.throws(() => process.kill(nodePids[0]!, 0), /ESRCH/);
    } finally {
      for (const pid of nodePids.length ? nodePids : childrenOf(wrapper.pid!)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (wrapper.exitCode === null) wrapper.kill('SIGKILL');
    }
  });
});
