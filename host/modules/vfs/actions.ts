// The request handler of vfs: parse the VfsRequest (in the sender's era), resolve the path,
// check capabilities, carry out the action, and answer as the runtime does:
// * success: to rsvp, else to the source if it expects a response (else no reply), with the
//   request's id and metadata echoed, blob `application/octet-stream` when there is data;
// * error: `{"Err": ...}`, metadata null, to rsvp-or-source; v0 always, v1 only when the
//   request expects a response;
// * root ReadDir (`"/"`, root cap only) answers the source whether or not it expects a reply.
// Actions run one at a time in arrival order; only AddZip is asynchronous, and while one is
// under way its sender's later requests wait behind it (other senders do not).

import type { Generation, KernelMessage, LazyLoadBlob, Request } from '../../types.js';
import { packageStr } from '../../kernel/address.js';
import { pidText } from '../../kernel/pid-text.js';
import type { ModuleContext } from '../../kernel/module.js';
import { giveBack, handOver } from '../../kernel/blob-handover.js';
import { KERNEL_NAMES } from '../../wire/names.js';
import {
  actionDebug,
  errorBody,
  parseVfsRequest,
  responseBody,
  WireError,
  type VfsAction,
  type VfsFailure,
  type VfsRequest,
} from '../../wire/vfs.js';
import { VfsCaps } from './caps.js';
import { VfsFiles, type Outcome } from './files.js';
import { ioErrorText, RustIoError } from './os-error.js';
import { isFailure, resolveVfsPath, type VfsPath } from './paths.js';
import { addZip } from './zip.js';

const OCTET = 'application/octet-stream';
/** request paths whose resolution is remembered (past this the memo starts over) */
const RESOLVED_LIMIT = 4096;

/** Actions whose own filesystem failure v0 reports with the request path (others with ""). */
const V0_IO_PATH = new Set(['Rename', 'CopyFile', 'Metadata']);

export class VfsHandler {
  private readonly caps: VfsCaps;
  private readonly files: VfsFiles;
  /** senders with an AddZip under way: their next requests wait for it */
  private readonly queues = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly resolved = new Map<string, VfsPath | VfsFailure>();

  constructor(
    private readonly ctx: ModuleContext,
    private readonly root: string,
  ) {
    this.caps = new VfsCaps(ctx);
    this.files = new VfsFiles(root);
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * resolveVfsPath, remembered by request path (bounded): a process names the same few files
   * again and again, and the resolution (regexes, normalize, splits) is a pure function of the
   * text under this handler's root. The result is only read, never changed.
   */
  private resolve(path: string): VfsPath | VfsFailure {
    let r = this.resolved.get(path);
    if (r === undefined) {
      r = resolveVfsPath(this.root, path);
      if (this.resolved.size >= RESOLVED_LIMIT) this.resolved.clear();
      this.resolved.set(path, r);
    }
    return r;
  }

  handle(km: KernelMessage, gen: Generation): void {
    if (this.stopped) return;
    if (km.source.node !== this.ctx.node) {
      this.ctx.print(1, `vfs: got request from ${km.source.node}, but requests must come from our node ${this.ctx.node}`);
      return;
    }
    const key = pidText(km.source.process);
    const prev = this.queues.get(key);
    const run = (): Promise<void> | undefined => {
      try {
        return this.run(km, gen)?.catch((e) => this.internal(e));
      } catch (e) {
        this.internal(e);
        return undefined;
      }
    };
    const pending = prev ? prev.then(run) : run();
    if (!pending) return;
    this.queues.set(key, pending);
    void pending.then(() => {
      if (this.queues.get(key) === pending) this.queues.delete(key);
    });
  }

  private internal(e: unknown): void {
    this.ctx.print(0, `vfs: internal error: ${(e as Error)?.stack ?? e}`);
  }

  private run(km: KernelMessage, gen: Generation): Promise<void> | undefined {
    if (km.message.tag !== 'request') {
      // v0 answers a Response with an error; v1 ignores it
      if (gen === 0) this.fail(km, undefined, gen, { kind: 'not-a-request' });
      return;
    }
    const req = km.message.val;
    let parsed: VfsRequest;
    try {
      parsed = parseVfsRequest(req.body, gen);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      return void this.fail(km, req, gen, { kind: 'bad-json', error: e.message });
    }
    const { path, action } = parsed;

    if (action.tag === 'ReadDir' && path === '/') {
      if (!this.caps.hasRoot(km.source.process)) {
        return void this.fail(km, req, gen, { kind: 'no-cap', write: false, action: 'ReadDir', path });
      }
      return void this.perform(km, req, gen, action, path, () => this.files.readRoot(), true);
    }

    const at = this.resolve(path);
    if (isFailure(at)) return void this.fail(km, req, gen, at);
    let to: VfsPath | undefined;
    const fromKernel = pidText(km.source.process) === KERNEL_NAMES.v1;
    if (action.tag === 'Rename' || action.tag === 'CopyFile') {
      const t = this.resolve(action.newPath);
      if (isFailure(t)) return void this.fail(km, req, gen, t);
      to = t;
    }
    if (!fromKernel) {
      const verdict = this.caps.check(km.source.process, packageStr(km.source.process), action, at.pkg, at.driveKey, to);
      if (verdict !== 'ok') {
        return void this.fail(km, req, gen, { kind: 'no-cap', write: verdict === 'no-write', action: actionDebug(action), path });
      }
    }
    const blob = km.lazyLoadBlob;
    const needsBlob = action.tag === 'Write' || action.tag === 'WriteAll' || action.tag === 'Append' || action.tag === 'AddZip';
    if (needsBlob && !blob) return void this.fail(km, req, gen, { kind: 'no-blob', action: action.tag });

    if (action.tag === 'AddZip') {
      return addZip(blob!.bytes, at.host, path).then((r) => {
        if (this.stopped) return;
        if (r.ok) this.succeed(km, req, gen, { response: { tag: 'Ok' } });
        else if ('failure' in r) this.fail(km, req, gen, r.failure);
        else this.fail(km, req, gen, { kind: 'io', error: ioErrorText(r.ioError), path: '' });
      });
    }
    if (action.tag === 'CreateDrive' && !fromKernel) this.caps.grantDrive(km.source.process, at.driveKey);
    this.perform(km, req, gen, action, path, () => this.act(action, at, to, blob), false);
    return undefined;
  }

  private act(action: VfsAction, at: VfsPath, to: VfsPath | undefined, blob: LazyLoadBlob | undefined): Outcome {
    const f = this.files;
    const p = at.host;
    switch (action.tag) {
      case 'CreateDrive':
        return f.createDrive(at.driveHost);
      case 'CreateDir':
        return f.createDir(p, false);
      case 'CreateDirAll':
        return f.createDir(p, true);
      case 'CreateFile':
        return f.createFile(p);
      case 'OpenFile':
        return f.openFile(p, action.create);
      case 'CloseFile':
        return f.closeFile(p);
      case 'Write':
        return f.write(p, blob!.bytes);
      case 'WriteAll':
        return f.writeAll(p, blob!.bytes);
      case 'Append':
        return f.append(p, blob!.bytes);
      case 'SyncAll':
        return f.syncAll(p);
      case 'Read':
        return f.read(p);
      case 'ReadDir':
        return f.readDir(p);
      case 'ReadToEnd':
        return f.readToEnd(p);
      case 'ReadExact':
        return f.readExact(p, action.length);
      case 'ReadToString':
        return f.readToString(p);
      case 'Seek':
        return f.seek(p, action.from);
      case 'RemoveFile':
        return f.removeFile(p);
      case 'RemoveDir':
        return f.removeDir(p, false);
      case 'RemoveDirAll':
        return f.removeDir(p, true);
      case 'Rename':
        return f.rename(p, to!.host);
      case 'CopyFile':
        return f.copyFile(p, to!.host);
      case 'Metadata':
        return f.metadata(p);
      case 'Len':
        return f.len(p);
      case 'SetLen':
        return f.setLen(p, action.len);
      case 'Hash':
        return f.hash(p);
      case 'AddZip':
        throw new Error('AddZip is asynchronous'); // handled in run()
    }
  }

  private perform(km: KernelMessage, req: Request, gen: Generation, action: VfsAction, path: string, op: () => Outcome, root: boolean): void {
    let out: Outcome;
    try {
      out = op();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException)?.code;
      if (code === undefined && !(e instanceof RustIoError)) throw e; // a bug, not a filesystem failure
      this.fail(km, req, gen, { kind: 'io', error: ioErrorText(e), path: V0_IO_PATH.has(action.tag) ? path : '' });
      return;
    }
    this.succeed(km, req, gen, out, root);
  }

  private succeed(km: KernelMessage, req: Request, gen: Generation, out: Outcome, root = false): void {
    if (this.stopped) return;
    // the bytes were read for this reply alone: a process gets their buffer, not a copy
    const blob = out.bytes ? { mime: OCTET, bytes: handOver(out.bytes) } : undefined;
    const response = { inherit: false, body: responseBody(out.response, gen), metadata: req.metadata, capabilities: [] };
    if (root) {
      // the runtime answers a root listing to the source, expected or not
      this.ctx.send({ id: km.id, target: km.source, message: { tag: 'response', val: [response, undefined] }, lazyLoadBlob: blob });
      return;
    }
    if (km.rsvp === undefined && req.expectsResponse === undefined) {
      if (out.spent) giveBack(out.spent);
      return;
    }
    if (!out.spent) return this.ctx.respond(km, response, blob);
    // told when a full mailbox refuses the answer: the sender's expects-response timer then keeps
    // the request (with this blob) for its timeout error, so the blob's buffer is not ours to
    // reuse; otherwise the answer took that timer and nothing else holds the buffer
    let refused = false;
    this.ctx.respond(km, response, blob, () => (refused = true));
    if (!refused) giveBack(out.spent);
  }

  private fail(km: KernelMessage, req: Request | undefined, gen: Generation, e: VfsFailure): void {
    if (this.stopped) return;
    if (gen === 1 && req?.expectsResponse === undefined) return; // v1 drops unasked-for errors
    this.ctx.respond(km, { inherit: false, body: errorBody(e, gen), metadata: undefined, capabilities: [] });
  }
}
