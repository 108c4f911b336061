// The WebSocket API of the Kinode docs, with Python `websockets` (Debian's, /usr/bin/python3) as
// the client: connect to `/`, send WsRegister {auth_token, target_process, encrypted: false} as
// text or binary; the named process (both generations) gets WebSocketOpen with path `/`, the
// client's frames as WebSocketPush, its own pushes reach the client, and the close arrives as
// WebSocketClose. A missing, forged or expired token, an unknown or unreachable process, or
// `encrypted: true` closes the socket (1008) and no process hears of it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { cleanupTempDirs, cmd, inboxUntil, unb64, type InboxEntry } from './helpers.js';
import { bootWebNode, HS, login, probePackage, python, pythonOk, type TestNode } from './homepage-clients.js';

const CLIENT = `
import asyncio, sys, json, websockets
async def main():
    url, reg, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    out = []
    try:
        async with websockets.connect(url, ping_interval=None, max_size=None) as ws:
            await ws.send(reg.encode() if mode == "binary" else reg)
            await ws.send("hello from python")
            await ws.send(b"\\x00\\x01binary")
            got = await asyncio.wait_for(ws.recv(), 60)
            out.append({"got": got if isinstance(got, str) else got.hex()})
    except websockets.exceptions.ConnectionClosed as e:
        out.append({"closed": e.rcvd.code if e.rcvd else None, "reason": e.rcvd.reason if e.rcvd else None})
    print(json.dumps(out), flush=True)
asyncio.run(main())
`;

const register = (token: string | undefined, target: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ ...(token === undefined ? {} : { auth_token: token }), target_process: target, encrypted: false, ...extra });

describe('WebSocket API (WsRegister on /)', { skip: !pythonOk && 'python3-websockets is not installed' }, () => {
  let t: TestNode;
  let token: string;
  const url = () => `ws://127.0.0.1:${t.port}/`;
  const ws = (reg: string, mode: 'text' | 'binary') => python(CLIENT, url(), reg, mode);

  before(async () => {
    t = await bootWebNode([
      probePackage(0, 'wsapi-zero'),
      probePackage(1, 'wsapi-one', {}, [{ name: 'nogrant', wasm: 'probe-v1', requestCapabilities: [HS[1]] }]),
    ]);
    token = (await login(t)).split('=').slice(1).join('=');
  });
  after(async () => {
    await t?.node.stop();
    cleanupTempDirs();
  });

  for (const gen of [0, 1] as const) {
    const pid = `probe:wsapi-${gen === 0 ? 'zero' : 'one'}:test.os`;
    const addr = `fake.dev@${pid}`;
    const mode = gen === 0 ? 'binary' : 'text';
    it(`v${gen}: a registered socket (WsRegister as ${mode}) is a channel of the process, both ways`, async () => {
      const client = ws(register(token, pid), mode);
      const opened = await inboxUntil(t.node, addr, (all) => all.filter((e) => e.body.includes('WebSocketPush')).length >= 2, 60000);
      const open = opened.find((e) => e.body.includes('WebSocketOpen'))!;
      assert.equal(open.source, `fake.dev@${HS[gen]}`);
      const { WebSocketOpen: o } = JSON.parse(open.body) as { WebSocketOpen: { path: string; channel_id: number } };
      assert.equal(o.path, '/');
      const pushes = opened.filter((e) => e.body.includes('WebSocketPush'));
      assert.deepEqual(pushes.map((e) => JSON.parse(e.body)), [
        { WebSocketPush: { channel_id: o.channel_id, message_type: 'Text' } },
        { WebSocketPush: { channel_id: o.channel_id, message_type: 'Binary' } },
      ]);
      assert.equal(unb64(pushes[0]!.blob!.b64), 'hello from python');
      assert.equal(Buffer.from(pushes[1]!.blob!.b64, 'base64').toString('hex'), Buffer.from('\x00\x01binary').toString('hex'));

      await cmd(t.node, addr, { op: 'send', target: `fake.dev@${HS[gen]}`, body: JSON.stringify({ WebSocketPush: { channel_id: o.channel_id, message_type: 'Text' } }), blob: { text: `pushed by v${gen}` } });
      const out = await client;
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(JSON.parse(out.stdout), [{ got: `pushed by v${gen}` }]);
      const closed = await inboxUntil(t.node, addr, (all) => all.some((e) => e.body.includes('WebSocketClose')), 30000);
      assert.ok(closed.some((e) => JSON.parse(e.body).WebSocketClose === o.channel_id));
    });
  }

  it('a missing, forged or expired token, a bad frame, encrypted: true, an unknown or unreachable process: closed with 1008, no process reached', async () => {
    const forged = await new SignJWT({ username: 'fake.dev', subdomain: null, expiration: Math.floor(Date.now() / 1000) + 3600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(randomBytes(32));
    const expired = await new SignJWT({ username: 'fake.dev', subdomain: null, expiration: 1 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(randomBytes(32));
    const target = 'probe:wsapi-one:test.os';
    const cases: Array<[string, string, RegExp]> = [
      ['missing token', register(undefined, target), /expected a WsRegister message/],
      ['forged token', register(forged, target), /invalid auth_token/],
      ['expired token', register(expired, target), /invalid auth_token/],
      ['empty token', register('', target), /invalid auth_token/],
      ['not JSON', 'hello', /expected a WsRegister message/],
      ['encrypted', register(token, target, { encrypted: true }), /encrypted channels are not supported/],
      ['unknown process', register(token, 'nobody:nothing:test.os'), /no process nobody:nothing:test\.os/],
      ['process that did not grant http-server', register(token, 'nogrant:wsapi-one:test.os'), /no process nogrant/],
    ];
    const results = await Promise.all(cases.map(([, reg]) => ws(reg, 'text')));
    results.forEach((out, i) => {
      const [name, , reason] = cases[i]!;
      assert.equal(out.code, 0, `${name}: ${out.stderr}`);
      const [r] = JSON.parse(out.stdout) as Array<{ closed?: number; reason?: string }>;
      assert.equal(r!.closed, 1008, name);
      assert.match(r!.reason ?? '', reason, name);
    });
    // nothing reached the processes named
    for (const p of ['probe:wsapi-one:test.os', 'nogrant:wsapi-one:test.os']) {
      const inbox: InboxEntry[] = await inboxUntil(t.node, `fake.dev@${p}`, () => true);
      assert.deepEqual(inbox.filter((e) => e.body.includes('WebSocket')), [], p);
    }
    assert.equal(t.lines.filter((l) => /doesn't have capability/.test(l)).length, 0);
  });

  it('a socket on / that never registers is closed after REGISTER_TIMEOUT_MS (1008)', async () => {
    const silent = `
import asyncio, sys, json, websockets
async def main():
    async with websockets.connect(sys.argv[1], ping_interval=None) as ws:
        try:
            await asyncio.wait_for(ws.recv(), 60)
            print(json.dumps({"got": "a frame"}))
        except websockets.exceptions.ConnectionClosed as e:
            print(json.dumps({"closed": e.rcvd.code, "reason": e.rcvd.reason}))
asyncio.run(main())
`;
    const out = await python(silent, url());
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { closed: 1008, reason: 'no WsRegister message in time' });
  });
});
