// The test fixtures' temporary directories go when a test file's process ends, cleaned up or
// not: a developer running `npm test` again and again must not fill /tmp (one run left ~37 MB).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const helpers = new URL('./helpers.js', import.meta.url).href;

/** Runs `body` in a fresh Node process that has imported the helpers as `h`; returns its stdout lines and status. */
function runWithHelpers(body: string): { lines: string[]; status: number | null } {
  const script = `const h = await import(${JSON.stringify(helpers)});\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30000 });
  return { lines: r.stdout.split('\n').filter(Boolean), status: r.status };
}

describe('test fixtures in /tmp', () => {
  it('a temp dir nobody cleaned up is gone once the process exits', () => {
    const { lines, status } = runWithHelpers(`
      const { writeFileSync } = await import('node:fs');
      const d = h.tempDir('kh-leak-check-');
      writeFileSync(d + '/file', 'x');
      console.log(d);`);
    assert.equal(status, 0);
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.includes('kh-leak-check-'), lines[0]);
    assert.equal(existsSync(lines[0]!), false, `${lines[0]} is still there`);
  });

  it('so is one left by a process that ends in an uncaught error, and a browser TMPDIR with it', () => {
    const { lines, status } = runWithHelpers(`
      const d = h.tempDir('kh-leak-check-');
      const env = h.browserEnv();
      console.log(d);
      console.log(env.TMPDIR);
      throw new Error('a test file that failed');`);
    assert.equal(status, 1);
    assert.equal(lines.length, 2);
    for (const d of lines) assert.equal(existsSync(d), false, `${d} is still there`);
  });
});
