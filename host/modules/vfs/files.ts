// The file operations of each VfsAction on host paths, with the runtime's per-path cursors
// (vfs.rs `Files`): a cursor exists once a path is opened (OpenFile, CreateFile, or any action
// that opens through the handle cache) and is shared by every process touching that path;
// OpenFile resets it to 0, CloseFile / RemoveFile / CreateFile forget it.
//
// Calls are synchronous on purpose: one action is then atomic with respect to every other
// (cursor read-modify-write needs no lock, and a sender's requests stay in order), and for the
// sizes vfs moves (whole files in one blob, in memory) sync fs calls measured faster than
// fs/promises' thread-pool round trips. AddZip (zip.ts) is the one async action.

import {
  closeSync,
  constants,
  copyFileSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { createHash } from 'node:crypto';
import type { FileType, SeekFrom, VfsResponse } from '../../wire/vfs.js';
import { RustIoError } from './os-error.js';
import { takeSpare } from '../../kernel/blob-handover.js';

export interface Outcome {
  response: VfsResponse;
  /** data for the reply's blob (Read, ReadToEnd, ReadExact) */
  bytes?: Uint8Array;
  /** the request's blob, written out and no longer needed (Write, WriteAll, Append) */
  spent?: Uint8Array;
}

const OK: Outcome = { response: { tag: 'Ok' } };
/** Files at least this big are read into a buffer of their own (a blob that size travels beside its message). */
const OWN_BUFFER_MIN = 32 * 1024;

/**
 * The whole file, with readFileSync's syscalls (open, fstat, reads to the end, close). A big
 * file goes into a spare buffer of exactly its size when the thread has one (a Write's blob
 * given back, kernel/blob-handover.ts), else into a fresh buffer of its own: either way the
 * bytes fill their ArrayBuffer, so they can be handed to the process without a copy.
 */
function readWhole(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // an empty size may be a file that does not know its length: readFileSync reads to the end
    if (size < OWN_BUFFER_MIN) return size === 0 ? readFileSync(fd) : readAt(fd, Buffer.allocUnsafe(size));
    const spare = takeSpare(size);
    return readAt(fd, spare !== undefined ? Buffer.from(spare) : Buffer.allocUnsafeSlow(size));
  } finally {
    closeSync(fd);
  }
}

/** Fill `out` from the start of the file; fewer bytes (a view) if the file ended sooner. */
function readAt(fd: number, out: Uint8Array): Uint8Array {
  let got = 0;
  while (got < out.length) {
    const n = readSync(fd, out, got, out.length - got, null);
    if (n === 0) return out.subarray(0, got);
    got += n;
  }
  return out;
}
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function fileTypeOf(st: Stats): FileType {
  if (st.isFile()) return 'File';
  if (st.isDirectory()) return 'Directory';
  if (st.isSymbolicLink()) return 'Symlink';
  return 'Other';
}

export class VfsFiles {
  /** open handles, by absolute host path: the cursor position */
  private readonly cursors = new Map<string, number>();

  constructor(private readonly root: string) {}

  /** With an open handle (opened now if needed, read+write, like tokio's OpenOptions). */
  private withFile<T>(path: string, create: boolean, truncate: boolean, fn: (fd: number, cursor: number) => T): T {
    let flags = constants.O_RDWR;
    if (create) flags |= constants.O_CREAT;
    if (truncate) flags |= constants.O_TRUNC;
    const fd = openSync(path, flags, 0o644);
    try {
      if (!this.cursors.has(path)) this.cursors.set(path, 0);
      return fn(fd, this.cursors.get(path)!);
    } finally {
      closeSync(fd);
    }
  }

  private readFrom(fd: number, pos: number): Uint8Array {
    const size = fstatSync(fd).size;
    const out = Buffer.allocUnsafe(Math.max(0, size - pos));
    let got = 0;
    while (got < out.length) {
      const n = readSync(fd, out, got, out.length - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    return out.subarray(0, got);
  }

  createDrive(driveHost: string): Outcome {
    mkdirSync(driveHost, { recursive: true });
    return OK;
  }

  createDir(path: string, all: boolean): Outcome {
    mkdirSync(path, { recursive: all });
    return OK;
  }

  createFile(path: string): Outcome {
    this.cursors.delete(path);
    this.withFile(path, true, true, () => undefined);
    return OK;
  }

  openFile(path: string, create: boolean): Outcome {
    this.withFile(path, create, false, () => this.cursors.set(path, 0));
    return OK;
  }

  closeFile(path: string): Outcome {
    this.cursors.delete(path);
    return OK;
  }

  write(path: string, bytes: Uint8Array): Outcome {
    writeFileSync(path, bytes);
    return { response: OK.response, spent: bytes };
  }

  writeAll(path: string, bytes: Uint8Array): Outcome {
    this.withFile(path, false, false, (fd, cur) => {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, cur + done);
      this.cursors.set(path, cur + bytes.length);
    });
    return { response: OK.response, spent: bytes };
  }

  append(path: string, bytes: Uint8Array): Outcome {
    this.withFile(path, false, false, (fd) => {
      const end = fstatSync(fd).size;
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, end + done);
      this.cursors.set(path, end + bytes.length);
    });
    return { response: OK.response, spent: bytes };
  }

  syncAll(path: string): Outcome {
    this.withFile(path, false, false, (fd) => fsyncSync(fd));
    return OK;
  }

  read(path: string): Outcome {
    return { response: { tag: 'Read' }, bytes: readWhole(path) };
  }

  readToEnd(path: string): Outcome {
    const bytes = this.withFile(path, false, false, (fd, cur) => {
      const b = this.readFrom(fd, cur);
      this.cursors.set(path, cur + b.length);
      return b;
    });
    return { response: { tag: 'Read' }, bytes };
  }

  readExact(path: string, length: bigint): Outcome {
    const bytes = this.withFile(path, false, false, (fd, cur) => {
      const size = fstatSync(fd).size;
      if (BigInt(Math.max(0, size - cur)) < length) {
        this.cursors.set(path, Math.max(cur, size));
        throw new RustIoError('early eof'); // tokio's UnexpectedEof text
      }
      const n = Number(length);
      const out = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) got += readSync(fd, out, got, n - got, cur + got);
      this.cursors.set(path, cur + n);
      return out;
    });
    return { response: { tag: 'Read' }, bytes };
  }

  readToString(path: string): Outcome {
    const text = this.withFile(path, false, false, (fd, cur) => {
      const b = this.readFrom(fd, cur);
      this.cursors.set(path, cur + b.length);
      try {
        return utf8.decode(b);
      } catch {
        throw new RustIoError('stream did not contain valid UTF-8');
      }
    });
    return { response: { tag: 'ReadToString', text } };
  }

  seek(path: string, from: SeekFrom): Outcome {
    const offset = this.withFile(path, false, false, (fd, cur) => {
      const base = from.tag === 'Start' ? 0n : from.tag === 'End' ? BigInt(fstatSync(fd).size) : BigInt(cur);
      const next = base + from.offset;
      if (next < 0n || next > BigInt(Number.MAX_SAFE_INTEGER)) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
      this.cursors.set(path, Number(next));
      return next;
    });
    return { response: { tag: 'SeekFrom', offset } };
  }

  readDir(path: string): Outcome {
    // entries relative to the vfs root, no leading slash, `/`-separated, in directory order
    const entries = readdirSync(path).map((name) => {
      const full = `${path}/${name}`;
      // DirEntry::metadata does not follow symlinks
      return { path: full.slice(this.root.length + 1), fileType: fileTypeOf(lstatSync(full)) };
    });
    return { response: { tag: 'ReadDir', entries } };
  }

  removeFile(path: string): Outcome {
    unlinkSync(path);
    this.cursors.delete(path);
    return OK;
  }

  removeDir(path: string, all: boolean): Outcome {
    if (all) {
      statSync(path); // a missing directory is an error (Rust's remove_dir_all), not a no-op
      rmSync(path, { recursive: true });
    } else rmdirSync(path);
    return OK;
  }

  rename(path: string, to: string): Outcome {
    renameSync(path, to);
    return OK;
  }

  copyFile(path: string, to: string): Outcome {
    copyFileSync(path, to);
    return OK;
  }

  metadata(path: string): Outcome {
    const st = statSync(path);
    return { response: { tag: 'Metadata', fileType: fileTypeOf(st), len: BigInt(st.size) } };
  }

  len(path: string): Outcome {
    const len = this.withFile(path, false, false, (fd) => BigInt(fstatSync(fd).size));
    return { response: { tag: 'Len', len } };
  }

  setLen(path: string, len: bigint): Outcome {
    this.withFile(path, false, false, (fd) => ftruncateSync(fd, Number(len)));
    return OK;
  }

  hash(path: string): Outcome {
    const hash = this.withFile(path, false, false, (fd) => {
      const b = this.readFrom(fd, 0);
      this.cursors.set(path, b.length);
      return createHash('sha256').update(b).digest();
    });
    return { response: { tag: 'Hash', hash: new Uint8Array(hash) } };
  }

  /** Root ReadDir: the package directories, as `pkg:pub`. */
  readRoot(): Outcome {
    return this.readDir(this.root);
  }
}
