// wasi:filesystem (types, preopens) for one process: its one preopened directory (TEMP_DIR) with
// synchronous node:fs calls in the worker itself. What a process can really do in its temp dir
// is implemented (open-at with its flags, read/write through streams or at offsets, stat,
// stat-at, read-directory, create-directory-at, unlink-file-at, remove-directory-at, rename-at,
// set-size, sync, metadata hashes); symlinks, hard links and times answer `unsupported`.
// Every path is confined to the preopen: absolute paths, `..` above the descriptor and symlinks
// leading out are refused with `not-permitted` (checked on the resolved host path).

import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
  type Dirent,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsCall, fsErrorCode } from './errors.js';
import { CLOSED, InputStream, IoError, lastOperationFailed, OutputStream } from './io.js';

const symbolDispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

/** A read returns at most this much (a stream may return less than asked). */
const MAX_READ = 1 << 20;

export interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  fileIntegritySync?: boolean;
  dataIntegritySync?: boolean;
  requestedWriteSync?: boolean;
  mutateDirectory?: boolean;
}
interface PathFlags {
  symlinkFollow?: boolean;
}
interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}
interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

function typeOf(s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (s.isFile()) return 'regular-file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symbolic-link';
  if (s.isFIFO()) return 'fifo';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character-device';
  if (s.isBlockDevice()) return 'block-device';
  return 'unknown';
}

const datetime = (ns: bigint): Datetime => ({ seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) });

function descriptorStat(s: BigIntStats): Record<string, unknown> {
  return {
    type: typeOf(s),
    linkCount: s.nlink,
    size: s.size,
    dataAccessTimestamp: datetime(s.atimeNs),
    dataModificationTimestamp: datetime(s.mtimeNs),
    statusChangeTimestamp: datetime(s.ctimeNs),
  };
}

const unsupported = (): never => {
  throw 'unsupported';
};

/** The preopen's real path and a test for "inside it". */
class Root {
  readonly real: string;

  constructor(hostPath: string) {
    let real = hostPath;
    try {
      real = realpathSync(hostPath);
    } catch {
      // a missing temp dir: every operation will answer no-entry
    }
    this.real = real;
  }

  contains(p: string): boolean {
    return p === this.real || p.startsWith(this.real.endsWith('/') ? this.real : `${this.real}/`);
  }
}

/** wasi:filesystem/types `descriptor`: the preopen, a directory or a file opened under it. */
export class Descriptor {
  private constructor(
    private readonly root: Root,
    /** the host path (resolved, inside the root) */
    private readonly path: string,
    /** open file descriptor; none for the preopen */
    private fd: number | undefined,
    private readonly directory: boolean,
    private readonly flags: DescriptorFlags,
  ) {}

  static preopen(hostPath: string): Descriptor {
    const root = new Root(hostPath);
    return new Descriptor(root, root.real, undefined, true, { read: true, mutateDirectory: true });
  }

  [symbolDispose](): void {
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }

  /** The open fd of a file (files always have one; a dropped descriptor has none: bad-descriptor). */
  fileFd(): number {
    if (this.directory) throw 'is-directory';
    if (this.fd === undefined) throw 'bad-descriptor';
    return this.fd;
  }

  /** Run f with an fd of this descriptor (a directory without one is opened for the call). */
  private withFd<T>(f: (fd: number) => T): T {
    if (this.fd !== undefined) return fsCall(() => f(this.fd!));
    return fsCall(() => {
      const fd = openSync(this.path, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        return f(fd);
      } finally {
        closeSync(fd);
      }
    });
  }

  /**
   * The host path for `sub` relative to this descriptor, refused (`not-permitted`) when it is
   * absolute, climbs above this descriptor, or resolves (through symlinks) outside the preopen.
   * The final component's symlink is followed only when `followFinal`.
   */
  private resolve(sub: string, followFinal: boolean): string {
    if (!this.directory) throw 'not-directory';
    if (sub.startsWith('/')) throw 'not-permitted';
    const segments: string[] = [];
    for (const s of sub.split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') {
        if (segments.pop() === undefined) throw 'not-permitted';
      } else {
        segments.push(s);
      }
    }
    const trailingSlash = sub.endsWith('/') && segments.length > 0;
    const lexical = join(this.path, ...segments);
    if (segments.length === 0) return lexical;
    // resolve the longest existing prefix; what does not exist yet cannot lead anywhere
    const rest: string[] = [];
    let probe = lexical;
    if (!followFinal && !trailingSlash) {
      rest.unshift(basename(probe));
      probe = dirname(probe);
    }
    let real: string;
    for (;;) {
      try {
        real = realpathSync(probe);
        break;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsErrorCode(e);
        if (isSymlink(probe)) throw 'not-permitted'; // dangling: where it leads is not ours to create
        rest.unshift(basename(probe));
        probe = dirname(probe);
      }
    }
    if (!this.root.contains(real)) throw 'not-permitted';
    const full = join(real, ...rest);
    return trailingSlash ? `${full}/` : full;
  }

  readViaStream(offset: bigint): InputStream {
    this.fileFd();
    return new FileInputStream(this, offset);
  }

  writeViaStream(offset: bigint): OutputStream {
    this.fileFd();
    return new FileOutputStream(this, offset, false);
  }

  appendViaStream(): OutputStream {
    this.fileFd();
    return new FileOutputStream(this, 0n, true);
  }

  advise(): void {
    this.fileFd(); // advice only: nothing to do
  }

  syncData(): void {
    this.withFd((fd) => fdatasyncSync(fd));
  }

  sync(): void {
    this.withFd((fd) => fsyncSync(fd));
  }

  getFlags(): DescriptorFlags {
    return this.flags;
  }

  getType(): string {
    if (this.fd === undefined) return 'directory';
    return fsCall(() => typeOf(fstatSync(this.fd!)));
  }

  setSize(size: bigint): void {
    const fd = this.fileFd();
    fsCall(() => ftruncateSync(fd, Number(size)));
  }

  setTimes = unsupported;
  setTimesAt = unsupported;
  linkAt = unsupported;
  symlinkAt = unsupported;
  readlinkAt = unsupported;

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const fd = this.fileFd();
    const want = Number(length < BigInt(MAX_READ) ? length : BigInt(MAX_READ));
    const buf = Buffer.allocUnsafe(want);
    const n = fsCall(() => readSync(fd, buf, 0, want, Number(offset)));
    return [new Uint8Array(buf.buffer, buf.byteOffset, n), n < Number(length) || n === 0];
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    const fd = this.fileFd();
    return BigInt(fsCall(() => writeSync(fd, buffer, 0, buffer.length, Number(offset))));
  }

  readDirectory(): DirectoryEntryStream {
    if (!this.directory) throw 'not-directory';
    return new DirectoryEntryStream(fsCall(() => readdirSync(this.path, { withFileTypes: true })));
  }

  stat(): Record<string, unknown> {
    return descriptorStat(this.withFd((fd) => fstatSync(fd, { bigint: true })));
  }

  statAt(pathFlags: PathFlags, path: string): Record<string, unknown> {
    const follow = pathFlags.symlinkFollow === true;
    const full = this.resolve(path, follow);
    return descriptorStat(fsCall(() => (follow ? statSync : lstatSync)(full, { bigint: true })));
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, descriptorFlags: DescriptorFlags): Descriptor {
    const follow = pathFlags.symlinkFollow === true;
    const full = this.resolve(path, follow);
    if (openFlags.directory && descriptorFlags.write) throw 'is-directory';
    let flags = descriptorFlags.write ? (descriptorFlags.read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
    if (openFlags.create) flags |= constants.O_CREAT;
    if (openFlags.directory) flags |= constants.O_DIRECTORY;
    if (openFlags.exclusive) flags |= constants.O_EXCL;
    if (openFlags.truncate) flags |= constants.O_TRUNC;
    if (!follow) flags |= constants.O_NOFOLLOW;
    if (descriptorFlags.fileIntegritySync || descriptorFlags.requestedWriteSync) flags |= constants.O_SYNC;
    if (descriptorFlags.dataIntegritySync) flags |= constants.O_DSYNC;
    const fd = fsCall(() => openSync(full, flags, 0o666));
    let directory: boolean;
    try {
      directory = fstatSync(fd).isDirectory();
    } catch (e) {
      closeSync(fd);
      throw fsErrorCode(e);
    }
    if (directory && descriptorFlags.write) {
      closeSync(fd);
      throw 'is-directory';
    }
    return new Descriptor(this.root, full.endsWith('/') ? full.slice(0, -1) : full, fd, directory, { ...descriptorFlags });
  }

  createDirectoryAt(path: string): void {
    const full = this.resolve(path, false);
    fsCall(() => mkdirSync(full));
  }

  removeDirectoryAt(path: string): void {
    const full = this.resolve(path, false);
    fsCall(() => rmdirSync(full));
  }

  unlinkFileAt(path: string): void {
    const full = this.resolve(path, false);
    fsCall(() => unlinkSync(full));
  }

  renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    if (!(newDescriptor instanceof Descriptor)) throw 'bad-descriptor';
    const from = this.resolve(oldPath, false);
    const to = newDescriptor.resolve(newPath, false);
    fsCall(() => renameSync(from, to));
  }

  isSameObject(other: Descriptor): boolean {
    if (other === this) return true;
    if (!(other instanceof Descriptor)) return false;
    try {
      const a = this.metadataHash();
      const b = other.metadataHash();
      return a.upper === b.upper && a.lower === b.lower;
    } catch {
      return false;
    }
  }

  metadataHash(): { upper: bigint; lower: bigint } {
    const s = this.withFd((fd) => fstatSync(fd, { bigint: true }));
    return { upper: s.dev, lower: s.ino };
  }

  metadataHashAt(pathFlags: PathFlags, path: string): { upper: bigint; lower: bigint } {
    const follow = pathFlags.symlinkFollow === true;
    const full = this.resolve(path, follow);
    const s = fsCall(() => (follow ? statSync : lstatSync)(full, { bigint: true }));
    return { upper: s.dev, lower: s.ino };
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** wasi:filesystem/types `directory-entry-stream`: the entries read when it was opened. */
export class DirectoryEntryStream {
  private next = 0;

  constructor(private readonly entries: Dirent[]) {}

  readDirectoryEntry(): { type: string; name: string } | undefined {
    const e = this.entries[this.next++];
    return e === undefined ? undefined : { type: typeOf(e), name: e.name };
  }
}

/** A file read from an offset onwards (read-via-stream); the end of the file is `closed`. */
class FileInputStream extends InputStream {
  constructor(
    private readonly file: Descriptor,
    private position: bigint,
  ) {
    super();
  }

  override read(len: bigint): Uint8Array {
    if (len === 0n) return new Uint8Array(0);
    let n: number;
    let buf: Buffer;
    try {
      const fd = this.file.fileFd();
      const want = Number(len < BigInt(MAX_READ) ? len : BigInt(MAX_READ));
      buf = Buffer.allocUnsafe(want);
      n = readSync(fd, buf, 0, want, Number(this.position));
    } catch (e) {
      throw lastOperationFailed(e);
    }
    if (n === 0) throw CLOSED;
    this.position += BigInt(n);
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  }

  override skip(len: bigint): bigint {
    let size: bigint;
    try {
      size = fstatSync(this.file.fileFd(), { bigint: true }).size;
    } catch (e) {
      throw lastOperationFailed(e);
    }
    const left = size > this.position ? size - this.position : 0n;
    if (left === 0n && len > 0n) throw CLOSED;
    const n = len < left ? len : left;
    this.position += n;
    return n;
  }
}

/** A file written from an offset onwards (write-via-stream), or at its end (append-via-stream). */
class FileOutputStream extends OutputStream {
  constructor(
    private readonly file: Descriptor,
    private position: bigint,
    private readonly append: boolean,
  ) {
    super();
  }

  override write(contents: Uint8Array): void {
    try {
      const fd = this.file.fileFd();
      let at = this.append ? Number(fstatSync(fd, { bigint: true }).size) : Number(this.position);
      for (let done = 0; done < contents.length; ) {
        const n = writeSync(fd, contents, done, contents.length - done, at);
        done += n;
        at += n;
      }
      this.position = BigInt(at);
    } catch (e) {
      throw lastOperationFailed(e);
    }
  }
}

/** filesystem-error-code: the code a failed stream operation on a file carries. */
export function filesystemErrorCode(err: IoError): string | undefined {
  return err instanceof IoError ? err.code : undefined;
}
