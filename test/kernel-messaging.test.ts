// Kernel semantics seen by processes: request/response, contexts, timeouts, prompting
// message and rsvp, send-and-await with its backlog, blob rules, FIFO, capabilities.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KinodeNode } from '../host/node.js';
import { b64, bootNode, cleanupTempDirs, cmd, inboxUntil, makePackage, unb64 } from './helpers.js';

for (const gen of [0, 1] as const) {
  describe(`kernel messaging, process-v${gen}`, () => {
    let node: KinodeNode;
    const pkg = `km${gen}:test.os`;
    const A = `fake.dev@a:${pkg}`;
    const B = `fake.dev@b:${pkg}`;
    const LONER = `fake.dev@loner:${pkg}`;
    const wasm = gen === 0 ? 'probe-v0' : 'probe-v1';

    before(async () => {
      const dir = await makePackage({
        packageName: `km${gen}`,
        publisher: 'test.os',
        processes: [
          // a and b may message each other (they hold each other's messaging cap)
          {
            name: 'a',
            wasm,
            requestCapabilities: [`b:${pkg}`, { process: `b:${pkg}`, params: { kind: 'object-form', n: 1 } }],
            requestNetworking: true,
          },
          {
            name: 'b',
            wasm,
            requestCapabilities: [`a:${pkg}`],
            grantCapabilities: [{ process: `a:${pkg}`, params: 'granted' }, 'timer:distro:sys'],
          },
          // loner holds no capability to b, but may message the public one
          { name: 'loner', wasm },
          { name: 'open', wasm, public: true },
        ],
      });
      node = await bootNode({ packages: [dir] });
      await node.waitForPrint(new RegExp(`probe ready ${A}`));
      await node.waitForPrint(new RegExp(`probe ready ${B}`));
      await node.waitForPrint(new RegExp(`probe ready ${LONER}`));
    });
    after(async () => {
      await node.stop();
      cleanupTempDirs();
    });

    it('prints with the <package>:<publisher> prefix and `our` in init', async () => {
      assert.ok(node.prints.includes(`${pkg}: probe ready ${A}`), node.prints.join('\n'));
    });

    it('a response comes back with the context stored for its request', async () => {
      await cmd(node, A, { op: 'send', target: B, body: { op: 'print', text: 'from a' }, expects: 5, context: 'ctx-1' });
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.kind === 'response'));
      const r = inbox.find((e) => e.kind === 'response')!;
      assert.equal(r.source, B);
      assert.equal(r.context, 'ctx-1');
      assert.deepEqual(JSON.parse(r.body), { ok: null });
      await node.waitForPrint(new RegExp(`${pkg}: from a`));
    });

    it('a request that expects no response does not replace the prompting message; a second response is dropped', async () => {
      await cmd(node, A, { op: 'send', target: B, body: { op: 'print', text: 'first' }, expects: 5, context: 'once' });
      await inboxUntil(node, A, (all) => all.some((e) => e.kind === 'response' && e.context === 'once'));
      // b answers again: its prompting message is still a's request (the driver's command has
      // no expects-response), so the response goes to a with the same id -> no context -> dropped
      await node.driver().request(B, { op: 'respond', body: 'again' });
      await cmd(node, A, { op: 'send', target: B, body: { op: 'print', text: 'marker' }, expects: 5, context: 'marker' });
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.context === 'marker'));
      assert.equal(inbox.filter((e) => e.body === 'again').length, 0, JSON.stringify(inbox));
    });

    it('an unanswered request times out with the original message, blob and context', async () => {
      // a non-command request is only logged by b, never answered
      await cmd(node, A, {
        op: 'send',
        target: B,
        body: 'not a command',
        expects: 1,
        context: 'ctx-timeout',
        blob: { mime: 'text/plain', text: 'the blob' },
      });
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.kind === 'error' && e.context === 'ctx-timeout'));
      const e = inbox.find((x) => x.kind === 'error' && x.context === 'ctx-timeout')!;
      assert.equal(e.errorKind, 'timeout');
      assert.equal(e.target, B);
      assert.equal(e.errorMessageBody, 'not a command');
      assert.equal(unb64(e.errorBlob!.b64), 'the blob');
      assert.equal(e.errorBlob!.mime, 'text/plain');
    });

    it('a request to an unknown process fails at once with a timeout send-error', async () => {
      const target = `fake.dev@nobody:${pkg}`;
      // a timeout far beyond the test's own bound: only the immediate "throw timeout" can arrive
      await cmd(node, A, { op: 'send', target, body: 'hello?', expects: 100000, context: 'unknown' });
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.context === 'unknown'));
      const e = inbox.find((x) => x.context === 'unknown')!;
      assert.equal(e.kind, 'error');
      assert.equal(e.errorKind, 'timeout');
      assert.equal(e.target, target);
    });

    it('the node name `our` routes locally; the kernel-thrown send-error names the node, the timer\'s keeps `our`', async () => {
      // dropped by the kernel: built from the message after `our` was replaced (issue 14)
      await cmd(node, A, { op: 'send', target: `our@nobody2:${pkg}`, body: 'x', expects: 100000, context: 'our-alias' });
      const inbox = await inboxUntil(node, A, (all) => all.some((e) => e.context === 'our-alias'));
      const thrown = inbox.find((x) => x.context === 'our-alias')!;
      assert.equal(thrown.errorKind, 'timeout');
      assert.equal(thrown.target, `fake.dev@nobody2:${pkg}`);
      const awaited = await cmd<{ err: { errorKind: string; target: string } }>(node, A, { op: 'await', target: `our@ghost2:${pkg}`, body: 'x', expects: 100000 });
      assert.deepEqual(awaited.err.target, `fake.dev@ghost2:${pkg}`);
      // delivered to b, which never answers a non-command: the timer's error keeps the address as passed
      await cmd(node, A, { op: 'send', target: `our@b:${pkg}`, body: 'never answered', expects: 1, context: 'our-timer' });
      const later = await inboxUntil(node, A, (all) => all.some((e) => e.context === 'our-timer'));
      const timed = later.find((x) => x.context === 'our-timer')!;
      assert.equal(timed.errorKind, 'timeout');
      assert.equal(timed.target, `our@b:${pkg}`);
      const r = await cmd<{ ok: { source: string; body: string } }>(node, A, {
        op: 'await',
        target: `our@b:${pkg}`,
        body: { op: 'print', text: 'via our' },
        expects: 5,
      });
      assert.equal(r.ok.source, B);
    });

    it('a request without the messaging capability is dropped with a print and an immediate timeout', async () => {
      await cmd(node, LONER, { op: 'send', target: B, body: 'sneaky', expects: 100000, context: 'nocap' });
      const inbox = await inboxUntil(node, LONER, (all) => all.some((e) => e.context === 'nocap'));
      assert.equal(inbox.find((x) => x.context === 'nocap')!.errorKind, 'timeout');
      await node.waitForPrint(new RegExp(`event loop: process loner:${pkg} doesn't have capability to message process b:${pkg}`));
      const seen = await cmd<Array<{ body: string }>>(node, B, { op: 'inbox' });
      assert.ok(!seen.some((e) => e.body === 'sneaky'));
    });

    it('malformed addresses never reach a process and never stop the node', async () => {
      for (const target of ['no-at-sign', 'our@', 'our@only:two', 'our@a:b:c:d', '@x:y:z', 'our@:empty:fields']) {
        await cmd(node, A, { op: 'send', target, body: 'bad', expects: 100000, context: `bad ${target}` });
      }
      const inbox = await inboxUntil(node, A, (all) => all.filter((e) => e.context?.startsWith('bad ')).length === 6);
      assert.ok(inbox.filter((e) => e.context?.startsWith('bad ')).every((e) => e.kind === 'error'));
      assert.deepEqual(await cmd(node, B, { op: 'print', text: 'still alive' }), null);
    });

    it('send-and-await returns the response; requests arriving meanwhile are received later, in order', async () => {
      // b is told to await a response from a; meanwhile nothing else. Then check the result shape.
      const r = await cmd<{ ok: { source: string; body: string; blob: { b64: string } | null } }>(node, B, {
        op: 'await',
        target: A,
        body: { op: 'respond', body: 'awaited answer', blob: { text: 'answer blob' } },
        expects: 5,
      });
      assert.equal(r.ok.source, A);
      assert.equal(r.ok.body, 'awaited answer');
      assert.equal(unb64(r.ok.blob!.b64), 'answer blob');
    });

    it('send-and-await to an unknown process returns the send-error', async () => {
      const r = await cmd<{ err: { errorKind: string } }>(node, A, { op: 'await', target: `our@ghost:${pkg}`, body: 'x', expects: 100000 });
      assert.equal(r.err.errorKind, 'timeout');
    });

    it('inherit forwards the prompting message: the final response goes straight to the original requester', async () => {
      // driver -> a (expects) ; a -> b inherit, no expects ; b responds -> goes to the driver
      const reply = await node.driver().request(
        A,
        { op: 'send', target: B, inherit: true, body: { op: 'respond', body: 'answered by b' }, noReply: true },
        { expects: 5 },
      );
      assert.equal(reply.source, B);
      assert.equal(reply.text, 'answered by b');
    });

    it('inherit without an explicit blob carries the blob of the message being handled', async () => {
      await node.driver().request(
        A,
        { op: 'send', target: B, inherit: true, body: 'inherited-blob-carrier' },
        { expects: 5, blob: { mime: 'application/x-test', bytes: 'carried' } },
      ).catch(() => undefined); // a does not answer (b logs and drops it); the request just times out
      const inbox = await inboxUntil(node, B, (all) => all.some((e) => e.body === 'inherited-blob-carrier'));
      const e = inbox.find((x) => x.body === 'inherited-blob-carrier')!;
      assert.equal(unb64(e.blob!.b64), 'carried');
    });

    it(`blob rules of process-v${gen}`, async () => {
      await cmd(node, A, { op: 'print', text: 'with blob' }, 5).catch(() => undefined);
      await node.driver().request(A, { op: 'print', text: 'carrying' }, { expects: 5, blob: { mime: 'text/x', bytes: 'B1' } });
      const got = await cmd<{ b64: string } | null>(node, A, { op: 'getBlob' });
      // the getBlob command itself has no blob
      assert.equal(got, null);
      if (gen === 1) {
        assert.equal(await cmd(node, A, { op: 'hasBlob' }), false);
        const last = await cmd<{ b64: string; mime: string }>(node, A, { op: 'lastBlob' });
        assert.equal(unb64(last.b64), 'B1');
        assert.equal(last.mime, 'text/x');
        assert.equal(await cmd(node, A, { op: 'our' }), A);
      } else {
        const r = await node.driver().request(A, { op: 'lastBlob' }, { expects: 5 });
        assert.match(r.text, /not available in process-v0/);
      }
      const withBlob = await node.driver().request(A, { op: 'getBlob' }, { expects: 5, blob: { bytes: 'B2' } });
      assert.equal(unb64(withBlob.json<{ ok: { b64: string } }>().ok.b64), 'B2');
    });

    it('messages from one sender arrive in the order sent', async () => {
      const requests = Array.from({ length: 40 }, (_, i) => ({ target: B, body: `fifo ${i}` }));
      await cmd(node, A, { op: 'sendMany', requests });
      for (let i = 40; i < 60; i++) await cmd(node, A, { op: 'send', target: B, body: `fifo ${i}` });
      const inbox = await inboxUntil(node, B, (all) => all.filter((e) => e.body.startsWith('fifo ')).length === 60);
      const order = inbox.filter((e) => e.body.startsWith('fifo ')).map((e) => Number(e.body.slice(5)));
      assert.deepEqual(order, Array.from({ length: 60 }, (_, i) => i));
    });

    it('capabilities: our, save, drop; attached caps survive only if held', async () => {
      const caps = await cmd<Array<{ issuer: string; params: string }>>(node, A, { op: 'ourCaps' });
      assert.ok(caps.some((c) => c.issuer === A && c.params === '"messaging"'), 'messaging cap to itself');
      assert.ok(caps.some((c) => c.issuer === B && c.params === '"messaging"'), 'requested cap');
      assert.ok(caps.some((c) => c.issuer === 'fake.dev@vfs:distro:sys' && JSON.parse(c.params).kind === 'read'));
      // a cap may be saved once it arrived attached to a message: b issues one and sends it along
      const extra = { issuer: B, params: '{"x":1}' };
      await cmd(node, B, { op: 'send', target: A, body: 'cap gift', caps: [extra] });
      await inboxUntil(node, A, (all) => all.some((e) => e.body === 'cap gift'));
      await cmd(node, A, { op: 'saveCaps', caps: [extra] });
      assert.ok((await cmd<typeof caps>(node, A, { op: 'ourCaps' })).some((c) => c.issuer === extra.issuer && c.params === extra.params));
      // attach a held cap and an unheld one: only the held one arrives
      const unheld = { issuer: `fake.dev@other:${pkg}`, params: '"messaging"' };
      await cmd(node, A, { op: 'send', target: B, body: 'caps-carrier', caps: [extra, unheld] });
      const inbox = await inboxUntil(node, B, (all) => all.some((e) => e.body === 'caps-carrier'));
      assert.deepEqual(
        inbox.find((e) => e.body === 'caps-carrier')!.caps.map((c) => c.issuer),
        [extra.issuer],
      );
      await cmd(node, A, { op: 'dropCaps', caps: [{ issuer: extra.issuer, params: '{ "x" : 1 }' }] });
      assert.ok(!(await cmd<typeof caps>(node, A, { op: 'ourCaps' })).some((c) => c.issuer === extra.issuer && c.params === extra.params));
    });

    it('manifest grants: object-form request and grant capabilities, public, request_networking', async () => {
      const caps = await cmd<Array<{ issuer: string; params: string }>>(node, A, { op: 'ourCaps' });
      assert.ok(caps.some((c) => c.issuer === B && JSON.parse(c.params).kind === 'object-form'), JSON.stringify(caps));
      assert.ok(caps.some((c) => c.issuer === B && c.params === '"granted"'), JSON.stringify(caps));
      assert.ok(caps.some((c) => c.issuer === 'fake.dev@kernel:distro:sys' && c.params === '"network"'));
      // a public process takes requests from anyone (its responses still need its own capability)
      await cmd(node, LONER, { op: 'send', target: `fake.dev@open:${pkg}`, body: 'hello open' });
      await inboxUntil(node, `fake.dev@open:${pkg}`, (all) => all.some((e) => e.body === 'hello open' && e.source === LONER));
      const answered = await cmd<{ err?: { errorKind: string } }>(node, LONER, {
        op: 'await',
        target: `fake.dev@open:${pkg}`,
        body: { op: 'print', text: 'answer me' },
        expects: 1,
      });
      assert.equal(answered.err?.errorKind, 'timeout', 'the response from open to loner fails the capability check');
      // another node is unreachable: offline with the network capability, timeout without
      const withNet = await cmd<{ err: { errorKind: string } }>(node, A, { op: 'await', target: `far.dev@x:${pkg}`, body: 'x', expects: 100000 });
      assert.equal(withNet.err.errorKind, 'offline');
      const noNet = await cmd<{ err: { errorKind: string } }>(node, LONER, { op: 'await', target: `far.dev@x:${pkg}`, body: 'x', expects: 100000 });
      assert.equal(noNet.err.errorKind, 'timeout');
    });

    it('timer:distro:sys answers SetTimer to processes that granted it messaging', async () => {
      const timer = 'our@timer:distro:sys';
      const ok = await cmd<{ ok?: { source: string; body: string } }>(node, B, { op: 'await', target: timer, body: { SetTimer: 30 }, expects: 5 });
      assert.equal(ok.ok?.source, 'fake.dev@timer:distro:sys');
      assert.equal(ok.ok?.body, '');
      const zero = await cmd<{ ok?: unknown }>(node, B, { op: 'await', target: timer, body: { SetTimer: 0 }, expects: 5 });
      assert.ok(zero.ok);
      // a did not grant the timer messaging: its answer is dropped by the capability check
      const denied = await cmd<{ err?: { errorKind: string } }>(node, A, { op: 'await', target: timer, body: { SetTimer: 10 }, expects: 1 });
      assert.equal(denied.err?.errorKind, 'timeout');
    });

    it('print-to-terminal verbosity filter', async () => {
      await cmd(node, A, { op: 'print', verbosity: 3, text: 'very chatty' });
      await cmd(node, A, { op: 'print', verbosity: 1, text: 'debug line' });
      await node.waitForPrint(/debug line/);
      assert.ok(!node.prints.some((l) => l.includes('very chatty')));
    });

    it('state: set, get, clear', async () => {
      assert.equal(await cmd(node, A, { op: 'getState' }), null);
      await cmd(node, A, { op: 'setState', b64: b64('state bytes') });
      assert.equal((await cmd<{ text: string }>(node, A, { op: 'getState' })).text, 'state bytes');
      await cmd(node, A, { op: 'clearState' });
      assert.equal(await cmd(node, A, { op: 'getState' }), null);
    });

    it('on-exit is readable and settable', async () => {
      assert.equal(await cmd(node, A, { op: 'getOnExit' }), 'None');
      await cmd(node, A, { op: 'setOnExit', onExit: 'Restart' });
      assert.equal(await cmd(node, A, { op: 'getOnExit' }), 'Restart');
      await cmd(node, A, { op: 'setOnExit', onExit: 'None' });
    });
  });
}
