// VFS path rules (runtime vfs.rs `parse_package_and_drive`): strip leading `/` (then `\`),
// join onto the vfs root, normalize lexically (`.` dropped, `..` pops), require the result to
// stay inside the root, then `<package>:<publisher>/<drive>/<rest...>`. The package segment is
// parsed like the runtime's PackageId (exactly two non-empty `:`-separated parts).

import { posix } from 'node:path';
import type { VfsFailure } from '../../wire/vfs.js';

export interface VfsPath {
  /** `pkg:pub` */
  pkg: string;
  drive: string;
  /** `/pkg:pub/drive`, the form capabilities name */
  driveKey: string;
  /** absolute host path of the drive directory */
  driveHost: string;
  /** absolute host path */
  host: string;
}

function packageError(seg: string): string | undefined {
  const parts = seg.split(':');
  if (parts.length > 2) return 'Too many colons';
  if (parts.length < 2 || parts[0] === '' || parts[1] === '') return 'Missing field';
  return undefined;
}

/** Resolve a request path under `root` (absolute, normalized), or the failure the runtime reports. */
export function resolveVfsPath(root: string, path: string): VfsPath | VfsFailure {
  let rel = path.replace(/^\/+/, '').replace(/^\\+/, '');
  let joined = posix.normalize(`${root}/${rel}`);
  if (joined.length > 1 && joined.endsWith('/')) joined = joined.slice(0, -1);
  if (joined !== root && !joined.startsWith(`${root}/`)) return { kind: 'escape', path };
  rel = joined.slice(root.length + 1);
  const parts = rel === '' ? [] : rel.split('/');
  if (parts.length < 2) return { kind: 'bad-path', error: 'malformed path', path: rel };
  const pkg = parts[0]!;
  const bad = packageError(pkg);
  if (bad) return { kind: 'bad-path', error: bad, path: rel };
  const drive = parts[1]!;
  const driveHost = `${root}/${pkg}/${drive}`;
  return { pkg, drive, driveKey: `/${pkg}/${drive}`, driveHost, host: joined };
}

export const isFailure = (v: VfsPath | VfsFailure): v is VfsFailure => 'kind' in v;
