// Issue 11.2, WebSocket memory: a client that stops reading while its process pushes, clients
// that hold unfinished frames, and frames past `--max-ws-frame`, against a node booted through
// the CLI so its memory is read from outside (/proc/<pid>/status). Both generations: the error
// a refused push gets differs by era.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { cleanupTempDirs } from './helpers.js';
import {
  bootChild,
  clientFrameHeader,
  closeCodeIn,
  HS,
  inboxUntil,
  memoryOf,
  MiB,
  probePackage,
  rawWebSocket,
  rpc,
  type ChildNode,
} from './http-hardening-helpers.js';

const PUSHES = 256; // of 1 MiB each (the issue pushed 256 MiB: +370 MB)
const BATCH = 16; // pushes per probe command
const PUSH = randomBytes(MiB);

/** Bind `/ws` for the probe of `gen` and open a raw client socket on it; the channel id. */
async function openChannel(node: ChildNode, gen: 0 | 1): Promise<{ socket: Socket; channel: number; probe: string; received: () => Buffer }> {
  const probe = `probe:hard${gen}:test.os`;
  const bind = await rpc<{ ok?: { body: string } }>(node, probe, {
    op: 'await',
    target: `fake.dev@${HS[gen]}`,
    body: { WebSocketBind: { path: '/ws', authenticated: false, encrypted: false, extension: false } },
    expects: 10,
  });
  assert.equal(bind.ok?.body, '{"Ok":null}');
  const { socket, rest } = await rawWebSocket(node.port, `/${probe}/ws`);
  let got = rest;
  socket.on('data', (d: Buffer) => {
    got = Buffer.concat([got, d]);
  });
  const inbox = await inboxUntil(node, probe, (all) => all.some((e) => e.body.includes('WebSocketOpen')));
  const open = JSON.parse(inbox.find((e) => e.body.includes('WebSocketOpen'))!.body) as { WebSocketOpen: { channel_id: number } };
  return { socket, channel: open.WebSocketOpen.channel_id, probe, received: () => got };
}

const closed = (s: Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));

describe('WebSocket limits (child node)', () => {
  let node: ChildNode;
  before(async () => {
    const pkgs = [await probePackage(0), await probePackage(1)];
    node = await bootChild(pkgs, ['--ws-send-buffer', String(MiB), '--ws-frame-timeout', '2', '--max-ws-frame', String(8 * MiB)], [
      /probe ready .*probe:hard0:test\.os/,
      /probe ready .*probe:hard1:test\.os/,
    ]);
  });
  after(async () => {
    await node?.stop();
    cleanupTempDirs();
  });

  for (const gen of [1, 0] as const) {
    it(`v${gen}: pushes to a client that does not read stay bounded; the socket is closed and the push refused`, async (t) => {
      const { socket, channel, probe } = await openChannel(node, gen);
      socket.pause(); // never reads again: the kernel's buffers fill, then the node's
      const start = memoryOf(node.pid).rss;
      // the blob comes with the command and each push inherits it (fire and forget: the
      // refusal's own error is checked in http-hardening.test.ts, where pushes can be awaited)
      const push = { target: `fake.dev@${HS[gen]}`, body: { WebSocketPush: { channel_id: channel, message_type: 'Binary' } }, inherit: true };
      for (let i = 0; i < PUSHES / BATCH; i++) {
        await rpc(node, probe, { op: 'sendMany', requests: Array.from({ length: BATCH }, () => push) }, 30, PUSH);
      }
      const grown = memoryOf(node.pid).rss - start;
      t.diagnostic(`v${gen}: ${PUSHES} MiB pushed to a non-reading client: RSS +${(grown / MiB).toFixed(0)} MiB`);
      await inboxUntil(node, probe, (all) => all.some((e) => e.body.includes(`"WebSocketClose":${channel}`)));
      const late = await rpc<{ ok?: { body: string } }>(node, probe, {
        op: 'await',
        target: `fake.dev@${HS[gen]}`,
        body: { WebSocketPush: { channel_id: channel, message_type: 'Text' } },
        blob: { text: 'late' },
        expects: 10,
      });
      assert.equal(late.ok?.body, gen === 0 ? '{"Err":{"WebSocketPushError":{"error":"WebSocket channel not found"}}}' : '{"Err":"WsChannelNotFound"}');
      await node.waitForLine(new RegExp(`websocket ${channel} of ${probe.replace(/\./g, '\\.')}: client not reading`));
      socket.resume(); // what was queued drains, then the server's close arrives
      await closed(socket);
      assert.ok(grown < 160 * MiB, `RSS grew by ${(grown / MiB).toFixed(0)} MiB for ${PUSHES} MiB pushed`);
    });
  }

  it('sockets holding unfinished frames are closed (1008); a quiet socket stays; oversized frames get 1009', async (t) => {
    const gen = 1;
    const { socket: quiet, probe } = await openChannel(node, gen);
    const holders: Array<{ socket: Socket; received: () => Buffer }> = [];
    for (let i = 0; i < 6; i++) {
      const { socket, rest } = await rawWebSocket(node.port, `/${probe}/ws`);
      let got = rest;
      socket.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
      });
      // announces 6 MiB (under --max-ws-frame), sends 3 MiB of it, then nothing
      socket.write(Buffer.concat([clientFrameHeader(0x2, 6 * MiB), randomBytes(3 * MiB)]));
      holders.push({ socket, received: () => got });
    }
    const held = memoryOf(node.pid).rss;
    for (const h of holders) await closed(h.socket);
    t.diagnostic(`6 sockets with 3 MiB of an unfinished frame each: closed; RSS while held ${(held / MiB).toFixed(0)} MiB, after ${(memoryOf(node.pid).rss / MiB).toFixed(0)} MiB`);
    for (const h of holders) assert.equal(closeCodeIn(h.received()), 1008);
    assert.equal(quiet.destroyed, false, 'a socket that sent nothing is left open');
    // and it still works: a whole message reaches the process
    const text = Buffer.from('still here');
    const header = clientFrameHeader(0x1, text.length);
    const mask = header.subarray(header.length - 4);
    quiet.write(Buffer.concat([header, Buffer.from(text.map((b, i) => b ^ mask[i % 4]!))]));
    const inbox = await inboxUntil(node, probe, (all) => all.some((e) => e.body.includes('"WebSocketPush"')));
    assert.ok(inbox.some((e) => e.body.includes('"message_type":"Text"')));

    const { socket: big, rest } = await rawWebSocket(node.port, `/${probe}/ws`);
    let got = rest;
    big.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
    });
    big.write(clientFrameHeader(0x2, 8 * MiB + 1));
    await closed(big);
    assert.equal(closeCodeIn(got), 1009);
    quiet.destroy();
  });
});
