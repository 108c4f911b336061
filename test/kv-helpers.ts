// Shared by the kv and sqlite tests: a node with, per generation, an owner package (its probe
// opens dbs; a second probe of the same package that never opens; one that does not grant the
// module messaging; one without the module's messaging cap) and another package's public probe;
// and a call helper that sends exactly the JSON and blobs process_lib sends, through the
// probe's `await` op (send-and-await-response from inside a real process).

import type { KinodeNode } from '../host/node.js';
import { bootNode, cmd, makePackage } from './helpers.js';

export const PUB = 'test.os';

export interface DbReply {
  source: string;
  /** the body parsed as JSON */
  body: unknown;
  /** the body as text */
  text: string;
  blob: Buffer | undefined;
  mime: string | null | undefined;
}

export type CallResult = { ok: true; reply: DbReply } | { ok: false; errorKind: string };

interface AwaitResult {
  ok?: { source: string; body: string; blob: { mime: string | null; b64: string } | null };
  err?: { errorKind: string };
}

/** The probe `who` sends `body` (JSON text or value) with `blob` to `target` and awaits the reply. */
export async function call(node: KinodeNode, who: string, target: string, body: unknown, blob?: { text?: string; b64?: string }, expects = 5): Promise<CallResult> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const r = await cmd<AwaitResult>(node, who, { op: 'await', target, body: text, expects, ...(blob ? { blob } : {}) }, expects + 20);
  if (r.err) return { ok: false, errorKind: r.err.errorKind };
  const o = r.ok!;
  let parsed: unknown;
  try {
    parsed = JSON.parse(o.body);
  } catch {
    parsed = undefined;
  }
  return { ok: true, reply: { source: o.source, body: parsed, text: o.body, blob: o.blob ? Buffer.from(o.blob.b64, 'base64') : undefined, mime: o.blob?.mime } };
}

/** process_lib's typed keys and values: the JSON text of the value, as bytes. */
export const jsonBytes = (v: unknown): number[] => [...Buffer.from(JSON.stringify(v))];

export interface DbNode {
  node: KinodeNode;
  home: string;
  /** owner package name per generation: `<prefix><gen>` */
  pkg: (gen: 0 | 1) => string;
  /** `fake.dev@<name>:<pkg>:test.os` */
  who: (gen: 0 | 1, name: 'probe' | 'other' | 'nogrant' | 'nocap') => string;
  /** the other package's public probe */
  peer: (gen: 0 | 1) => string;
}

/** Boots a node (or reboots one on `home`) with the fixture packages for module `module`. */
export async function bootDbNode(module: 'kv:distro:sys' | 'sqlite:distro:sys', prefix: string, home: string, install = true): Promise<DbNode> {
  const packages: string[] = [];
  if (install) {
    for (const gen of [0, 1] as const) {
      const wasm = `probe-v${gen}`;
      const both = { requestCapabilities: [module], grantCapabilities: [module], onExit: 'Restart' };
      packages.push(
        await makePackage({
          packageName: `${prefix}${gen}`,
          publisher: PUB,
          witVersion: gen,
          processes: [
            { name: 'probe', wasm, ...both },
            { name: 'other', wasm, ...both },
            { name: 'nogrant', wasm, requestCapabilities: [module], onExit: 'Restart' },
            { name: 'nocap', wasm, onExit: 'Restart' },
          ],
        }),
        await makePackage({
          packageName: `${prefix}peer${gen}`,
          publisher: PUB,
          witVersion: gen,
          processes: [{ name: 'peer', wasm, requestCapabilities: [module], public: true, onExit: 'Restart' }],
        }),
      );
    }
  }
  const node = await bootNode({ home, packages, verbosity: 1 });
  const db: DbNode = {
    node,
    home,
    pkg: (gen) => `${prefix}${gen}`,
    who: (gen, name) => `fake.dev@${name}:${prefix}${gen}:${PUB}`,
    peer: (gen) => `fake.dev@peer:${prefix}peer${gen}:${PUB}`,
  };
  for (const gen of [0, 1] as const) {
    for (const n of ['probe', 'other', 'nogrant', 'nocap'] as const) await node.waitForPrint(new RegExp(`probe ready ${db.who(gen, n).replace(/\./g, '\\.')}`), 60000);
    await node.waitForPrint(new RegExp(`probe ready ${db.peer(gen).replace(/\./g, '\\.')}`), 60000);
  }
  return db;
}
