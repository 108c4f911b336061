// Node fs errors as Rust's `io::Error` displays them ("No such file or directory (os error 2)"),
// which is the text the runtime's vfs puts in its IOError replies.

import { constants } from 'node:os';

// strerror texts of glibc for the errors file operations produce
const TEXTS: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
};

/** Marker for errors that are not OS errors but carry Rust's text already (e.g. `early eof`). */
export class RustIoError extends Error {}

export function ioErrorText(e: unknown): string {
  if (e instanceof RustIoError) return e.message;
  const code = (e as NodeJS.ErrnoException)?.code;
  const errno = code ? (constants.errno as Record<string, number>)[code] : undefined;
  if (code && errno !== undefined) return `${TEXTS[code] ?? code} (os error ${errno})`;
  return (e as Error)?.message ?? String(e);
}
