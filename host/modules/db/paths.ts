// Where a kv or sqlite db lives on disk: `<root>/<package>:<publisher>/<db>/` as in the runtime
// (`<package>_<publisher>` on Windows, where ':' is not allowed in a file name).
//
// The runtime joins the names into the path unchecked, so `"db":"../../x"` would reach outside
// the home. Here a package or db name that is empty, `.` or `..`, or holds `/`, `\` or NUL is
// refused before anything touches the disk; the module answers with its IOError variant, the
// error the runtime gives when the file system refuses a path.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DbKey } from '../../wire/db-request.js';

export class DbPathError extends Error {}

function checkName(what: string, name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new DbPathError(`invalid ${what} ${JSON.stringify(name)}: a name may not be empty, "." or "..", nor contain "/", "\\" or NUL`);
  }
}

/** The db's directory under `root` (`<home>/kv` or `<home>/sqlite`). Throws DbPathError. */
export function dbDir(root: string, key: DbKey): string {
  checkName('package name', key.pkg.packageName);
  checkName('publisher', key.pkg.publisherNode);
  checkName('db name', key.db);
  const pkg = process.platform === 'win32' ? `${key.pkg.packageName}_${key.pkg.publisherNode}` : `${key.pkg.packageName}:${key.pkg.publisherNode}`;
  return join(root, pkg, key.db);
}

/**
 * A map key for a db (package and name cannot contain NUL once checked). A key the fast path
 * remembers carries it already (wire/db-fast.ts): the same string object on every request, whose
 * hash the maps keep, rather than a new string per request.
 */
export const dbKeyString = (key: DbKey): string => key.text ?? `${key.pkg.packageName}\0${key.pkg.publisherNode}\0${key.db}`;

/**
 * RemoveDb as the runtime does it: close the open handle, then remove the db's directory. Returns
 * the IOError text on failure (the runtime's `remove_dir_all` fails on a db never created).
 */
export function removeDbDir(root: string, key: DbKey, close: () => void): string | undefined {
  const text = (e: unknown): string => (e as Error)?.message ?? String(e);
  let dir: string;
  try {
    dir = dbDir(root, key);
  } catch (e) {
    return text(e);
  }
  close();
  if (!existsSync(dir)) return 'No such file or directory (os error 2)';
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    return text(e);
  }
  return undefined;
}
