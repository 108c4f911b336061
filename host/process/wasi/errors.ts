// WASI filesystem error codes (wasi:filesystem/types `error-code`) from Node's fs errors. A
// guest sees the code as its errno (the preview1 adapter maps it), so the mapping decides what
// e.g. Rust's `std::io::ErrorKind` says. An error with no WASI counterpart is `io`.

const BY_NODE_CODE: Record<string, string> = {
  EACCES: 'access',
  EAGAIN: 'would-block',
  EWOULDBLOCK: 'would-block',
  EALREADY: 'already',
  EBADF: 'bad-descriptor',
  EBUSY: 'busy',
  EDEADLK: 'deadlock',
  EDQUOT: 'quota',
  EEXIST: 'exist',
  EFBIG: 'file-too-large',
  EILSEQ: 'illegal-byte-sequence',
  EINPROGRESS: 'in-progress',
  EINTR: 'interrupted',
  EINVAL: 'invalid',
  EIO: 'io',
  EISDIR: 'is-directory',
  ERR_FS_EISDIR: 'is-directory',
  ELOOP: 'loop',
  EMLINK: 'too-many-links',
  EMSGSIZE: 'message-size',
  ENAMETOOLONG: 'name-too-long',
  ENODEV: 'no-device',
  ENOENT: 'no-entry',
  ENOLCK: 'no-lock',
  ENOMEM: 'insufficient-memory',
  ENOSPC: 'insufficient-space',
  ENOTDIR: 'not-directory',
  ENOTEMPTY: 'not-empty',
  ENOTRECOVERABLE: 'not-recoverable',
  ENOTSUP: 'unsupported',
  EOPNOTSUPP: 'unsupported',
  ENOTTY: 'no-tty',
  ENXIO: 'no-such-device',
  EOVERFLOW: 'overflow',
  EPERM: 'not-permitted',
  EPIPE: 'pipe',
  EROFS: 'read-only',
  ESPIPE: 'invalid-seek',
  ETXTBSY: 'text-file-busy',
  EXDEV: 'cross-device',
};

/** The WASI error code for what a node:fs call threw (a string already a code passes through). */
export function fsErrorCode(e: unknown): string {
  if (typeof e === 'string') return e;
  const code = (e as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && BY_NODE_CODE[code]) || 'io';
}

/** Run a node:fs call; what it throws is thrown again as the WASI error code (jco's error payload). */
export function fsCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fsErrorCode(e);
  }
}
