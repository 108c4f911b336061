// The reply rules the storage modules share (fact sheet §0), checked on the kv and sqlite
// modules themselves with a recording module context (no kernel, no workers): successes only
// when a response is expected or there is an rsvp, errors always; a Response sent to the module
// is answered with an error by v0 and ignored by v1.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModuleContext, SystemModule } from '../host/kernel/module.js';
import type { Address, Capability, KernelMessage, LazyLoadBlob, Response } from '../host/types.js';
import { createKvModule } from '../host/modules/kv/index.js';
import { createSqliteModule } from '../host/modules/sqlite/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

interface Sent {
  to: Address;
  body: string;
  metadata: string | undefined;
  blob: LazyLoadBlob | undefined;
}

function recordingContext(sent: Sent[]): ModuleContext {
  const held = new Set<string>();
  return {
    node: 'fake.dev',
    send: () => 0n,
    respond: (req: KernelMessage, r: Response, blob?: LazyLoadBlob) => sent.push({ to: req.rsvp ?? req.source, body: Buffer.from(r.body).toString(), metadata: r.metadata, blob }),
    generationOf: () => undefined,
    print: () => {},
    onProcessExit: () => {},
    hasCapability: (_h, c: Capability) => held.has(c.params),
    grantCapabilities: (_h, caps: Capability[]) => caps.forEach((c) => held.add(c.params)),
    dropCapabilities: () => {},
  };
}

const source: Address = { node: 'fake.dev', process: { processName: 'p', packageName: 'pkg', publisherNode: 'pub.os' } };
const other: Address = { node: 'fake.dev', process: { processName: 'x', packageName: 'else', publisherNode: 'pub.os' } };
const PKG = { package_name: 'pkg', publisher_node: 'pub.os' };

function request(body: unknown, opts: { expects?: boolean; rsvp?: Address; metadata?: string } = {}): KernelMessage {
  return {
    id: 7n,
    source,
    target: source,
    rsvp: opts.rsvp,
    message: { tag: 'request', val: { inherit: false, expectsResponse: opts.expects === false ? undefined : 5n, body: Buffer.from(JSON.stringify(body)), metadata: opts.metadata, capabilities: [] } },
    lazyLoadBlob: undefined,
  };
}

const response: KernelMessage = {
  id: 8n,
  source,
  target: source,
  rsvp: undefined,
  message: { tag: 'response', val: [{ inherit: false, body: Buffer.from('"Ok"'), metadata: undefined, capabilities: [] }, undefined] },
  lazyLoadBlob: undefined,
};

describe('kv and sqlite reply rules', () => {
  after(() => cleanupTempDirs());
  const mods: Array<[string, (home: string) => SystemModule, string]> = [
    ['kv', (home) => createKvModule({ home }), '{"Err":{"error":{"InputError":{"error":"not a request"}}}}'],
    ['sqlite', (home) => createSqliteModule({ home }), '{"Err":{"error":{"InputError":{"error":"not a request"}}}}'],
  ];
  for (const [name, make, notARequest] of mods) {
    it(`${name}: success only when expected or with an rsvp; errors always; a Response is answered by v0 only`, async () => {
      const sent: Sent[] = [];
      const mod = make(tempDir(`kh-${name}-replies-`));
      await mod.start(recordingContext(sent));
      try {
        mod.handle(request({ package_id: PKG, db: 'd', action: 'Open' }, { expects: false }), 1);
        assert.equal(sent.length, 0, 'no reply to a fire-and-forget success');
        mod.handle(request({ package_id: PKG, db: 'd', action: 'Open' }, { expects: false, rsvp: other }), 1);
        assert.deepEqual(sent.splice(0), [{ to: other, body: '"Ok"', metadata: undefined, blob: undefined }], 'an rsvp gets the success');
        mod.handle(request({ package_id: PKG, db: 'd', action: 'Open' }, { metadata: 'm' }), 1);
        assert.deepEqual(sent.splice(0), [{ to: source, body: '"Ok"', metadata: 'm', blob: undefined }], 'metadata echoed');
        mod.handle(request('garbage', { expects: false, metadata: 'm' }), 1);
        assert.deepEqual(sent.splice(0), [{ to: source, body: '{"Err":"MalformedRequest"}', metadata: undefined, blob: undefined }], 'errors always, no metadata');
        mod.handle(request('garbage', { expects: false }), 0);
        assert.match(sent.splice(0)[0]!.body, /^\{"Err":\{"error":\{"InputError"/);
        mod.handle(response, 1);
        assert.equal(sent.length, 0, 'v1 ignores a Response');
        mod.handle(response, 0);
        assert.deepEqual(sent.splice(0).map((s) => s.body), [notARequest]);
      } finally {
        await mod.stop();
      }
    });
  }
});
