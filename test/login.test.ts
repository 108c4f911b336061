// Login like the runtime, with curl: the forms Kinode 0.9's and 1.0's login pages post
// (`password_hash` = 0x + SHA-256 hex / 0x + Argon2id hex with the node name as salt) and the plain
// password; the runtime's attribute-less Set-Cookie; wrong passwords refused; the per-address
// rate limit on failed logins. The Argon2id value below was computed with the reference
// implementation's CLI (`echo -n '<pw>' | argon2 fake.dev -id -t 2 -k 19456 -p 1 -l 32 -r`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cleanupTempDirs } from './helpers.js';
import { argon2PasswordHash } from '../host/modules/http-server/auth.js';
import { LOGIN_FAILURES_ALLOWED, LoginLimiter } from '../host/modules/http-server/login-limit.js';
import { bootWebNode, curl, curlOk, PASSWORD, type TestNode } from './homepage-clients.js';

const ARGON2_REFERENCE = '0xc10f6041d17e9982e75e39967dde33028848a25884c6aef97cd43d86e8c2fc60';
const SHA256 = `0x${createHash('sha256').update(PASSWORD).digest('hex')}`;
const COOKIE_HEADER = /^kinode-auth_fake\.dev=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+;$/;

describe('login', { skip: !curlOk && 'curl is not installed' }, () => {
  let t: TestNode;
  const post = (body: string, path = '/login') => curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', body, `${t.base}${path}`]);

  before(async () => {
    t = await bootWebNode([]);
  });
  after(async () => {
    await t?.node.stop();
    cleanupTempDirs();
  });

  it('our Argon2id parameters give the reference implementation\'s hash', async () => {
    assert.equal(await argon2PasswordHash(PASSWORD, 'fake.dev'), ARGON2_REFERENCE);
    assert.equal(await argon2PasswordHash(PASSWORD, 'a.os'), undefined); // salt under 8 bytes
  });

  for (const [what, body] of [
    ['Kinode 1.0 page: 0x + Argon2id(password, node name)', { password_hash: ARGON2_REFERENCE, subdomain: '' }],
    ['Kinode 0.9 page: 0x + SHA-256(password)', { password_hash: SHA256, subdomain: '' }],
    ['the plain password', { password: PASSWORD }],
  ] as const) {
    it(`accepts ${what}, answering with the runtime's cookie header`, async () => {
      const r = await post(JSON.stringify(body));
      assert.equal(r.status, 200, r.body);
      assert.match(r.headers.get('set-cookie') ?? '', COOKIE_HEADER);
      assert.doesNotMatch(r.raw, /HttpOnly/i); // page scripts must be able to read it
      const cookie = r.headers.get('set-cookie')!.replace(/;$/, '');
      const page = await curl(['-H', `Cookie: ${cookie}`, `${t.base}/apps`]);
      assert.deepEqual([page.status, page.headers.get('content-type')], [200, 'application/json']);
    });
  }

  it('a secure-subdomain login sets kinode-auth_<node>@<process id>', async () => {
    const r = await post(JSON.stringify({ password_hash: ARGON2_REFERENCE, subdomain: 'app:pkg:pub.os' }));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('set-cookie') ?? '', /^kinode-auth_fake\.dev@app:pkg:pub\.os=[\w-]+\.[\w-]+\.[\w-]+;$/);
  });

  it('refuses wrong passwords and hashes (500, no cookie) and bad bodies (400)', async () => {
    const wrongArgon = await argon2PasswordHash('not the password', 'fake.dev');
    for (const body of [{ password: 'nope' }, { password_hash: wrongArgon, subdomain: '' }, { password_hash: `0x${'0'.repeat(64)}`, subdomain: '' }, { password_hash: ARGON2_REFERENCE.toUpperCase().replace('0X', '0x').slice(0, 40) }]) {
      const r = await post(JSON.stringify(body));
      assert.equal(r.status, 500, JSON.stringify(body));
      assert.match(r.body, /^"Failed to decode keyfile: /);
      assert.equal(r.headers.get('set-cookie'), undefined);
    }
    const bad = await post('password=x');
    assert.deepEqual([bad.status, bad.body], [400, '"Failed to parse login info"']);
  });

  it('serves the login page with the node\'s own Argon2 script', async () => {
    const page = await curl([`${t.base}/login`]);
    assert.equal(page.status, 200);
    assert.match(page.body, /<script src="\/login\/argon2\.js"><\/script>/);
    const js = await curl([`${t.base}/login/argon2.js`]);
    assert.deepEqual([js.status, js.headers.get('content-type')], [200, 'application/javascript']);
    assert.match(js.body, /hashwasm/);
  });
});

describe('login rate limit', { skip: !curlOk && 'curl is not installed' }, () => {
  let t: TestNode;
  before(async () => {
    t = await bootWebNode([]);
  });
  after(async () => {
    await t?.node.stop();
    cleanupTempDirs();
  });

  it(`after ${LOGIN_FAILURES_ALLOWED} failures an address gets 429 with Retry-After, even with the right password`, async () => {
    const post = (body: unknown) => curl(['-X', 'POST', '--data-binary', JSON.stringify(body), `${t.base}/login`]);
    assert.equal((await post({ password: PASSWORD })).status, 200); // successes do not count
    for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) assert.equal((await post({ password: `wrong ${i}` })).status, 500);
    const limited = await post({ password: PASSWORD });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('set-cookie'), undefined);
    const wait = Number(limited.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    // the rest of the node is unaffected
    assert.equal((await curl([`${t.base}/our`])).body, 'fake.dev');
  });
});

describe('LoginLimiter window (clock injected)', () => {
  it('locks an address after the allowed failures until its window ends; others and successes are unaffected', () => {
    let now = 1_000_000;
    const l = new LoginLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(l.retryAfter('a'), 0);
      l.failed('a');
    }
    assert.equal(l.retryAfter('a'), 60);
    assert.equal(l.retryAfter('b'), 0);
    now += 59_001;
    assert.equal(l.retryAfter('a'), 1);
    now += 1_000;
    assert.equal(l.retryAfter('a'), 0); // the window is over
    l.failed('a');
    l.failed('a');
    l.succeeded('a'); // a success clears the count
    l.failed('a');
    l.failed('a');
    assert.equal(l.retryAfter('a'), 0);
  });
});
