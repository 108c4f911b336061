// AddZip (runtime vfs.rs): unpack a zip blob into a directory, entries in archive order:
// a directory entry is `mkdir -p`, a file entry is written (replacing what is there; parents
// are not created, as in the runtime, so a file whose directory entry came later fails).
// Entry names that would leave the target directory are refused (the runtime does not check).

import { mkdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import yauzl from 'yauzl';
import type { VfsFailure } from '../../wire/vfs.js';

export type ZipResult = { ok: true } | { ok: false; failure: VfsFailure } | { ok: false; ioError: unknown };

function open(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((res, rej) =>
    // name validation is ours (below) so that a bad name is an entry error, not an open error
    yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false, decodeStrings: true }, (e, z) =>
      e || !z ? rej(e) : res(z),
    ),
  );
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((res, rej) =>
    zip.openReadStream(entry, (e, stream) => {
      if (e || !stream) return rej(e);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', rej);
      stream.on('end', () => res(Buffer.concat(chunks)));
    }),
  );
}

/**
 * `dir`: absolute host path of the target; `reqPath`: the request path (v0 reports it with
 * entry errors). Zip parse errors report the host path, as the runtime does.
 */
export async function addZip(bytes: Uint8Array, dir: string, reqPath: string): Promise<ZipResult> {
  let zip: yauzl.ZipFile;
  try {
    zip = await open(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    // the zip crate's text for anything without an end-of-central-directory record
    return { ok: false, failure: { kind: 'zip-parse', error: 'invalid Zip archive: Could not find central directory end', path: dir } };
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    zip.close();
    return { ok: false, ioError: e };
  }
  return new Promise<ZipResult>((resolve) => {
    const finish = (r: ZipResult): void => {
      zip.close();
      resolve(r);
    };
    zip.on('error', (e: Error) => finish({ ok: false, failure: { kind: 'unzip', error: e.message, path: reqPath } }));
    zip.on('end', () => finish({ ok: true }));
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = entry.fileName;
      const target = posix.normalize(`${dir}/${name}`);
      if (name.startsWith('/') || name.includes('\\') || (target !== dir && !target.startsWith(`${dir}/`))) {
        finish({ ok: false, failure: { kind: 'unzip', error: `invalid file path in zip entry: ${name}`, path: reqPath } });
        return;
      }
      if (name.endsWith('/')) {
        try {
          mkdirSync(target, { recursive: true });
        } catch (e) {
          return finish({ ok: false, ioError: e });
        }
        zip.readEntry();
        return;
      }
      readEntry(zip, entry).then(
        (data) => {
          try {
            writeFileSync(target, data);
          } catch (e) {
            return finish({ ok: false, ioError: e });
          }
          zip.readEntry();
        },
        (e: Error) => finish({ ok: false, failure: { kind: 'unzip', error: e?.message ?? String(e), path: reqPath } }),
      );
    });
    zip.readEntry();
  });
}
