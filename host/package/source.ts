// Where a package comes from: a kit package folder (metadata.json + pkg/), its pkg/ folder,
// or a zip of pkg/'s contents named `<package>:<publisher>.zip`, as kit makes it.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import yauzl from 'yauzl';
import { ManifestError, parseMetadata, type PackageMetadata } from './manifest.js';
import { ownedBytes } from './drive.js';
import { readSmallFirst, readTextSmallFirst } from './small-files.js';

export interface PackageSource {
  metadata: PackageMetadata;
  /** path inside pkg/ (posix, no leading slash) -> bytes */
  files: Map<string, Uint8Array>;
  label: string;
  /** the zip itself, when the package came as one (the app store keeps it in the drive) */
  zip?: Uint8Array;
}

const MAX_ZIP_ENTRY = 512 * 1024 * 1024;

export async function readPackage(path: string): Promise<PackageSource> {
  if (!existsSync(path)) throw new ManifestError(`${path}: no such file or folder`);
  const st = statSync(path);
  if (st.isFile()) {
    if (!path.endsWith('.zip')) throw new ManifestError(`${path}: expected a package folder or a <package>:<publisher>.zip`);
    return readZip(path);
  }
  if (existsSync(join(path, 'pkg', 'manifest.json'))) {
    const metadata = await readMetadata(join(path, 'metadata.json'));
    return { metadata, files: await readTree(join(path, 'pkg')), label: path };
  }
  if (existsSync(join(path, 'manifest.json'))) {
    const metaPath = join(dirname(path), 'metadata.json');
    if (!existsSync(metaPath)) throw new ManifestError(`${path}: a pkg/ folder needs ../metadata.json to name its package`);
    return { metadata: await readMetadata(metaPath), files: await readTree(path), label: path };
  }
  throw new ManifestError(`${path}: not a package (no pkg/manifest.json or manifest.json)`);
}

async function readMetadata(p: string): Promise<PackageMetadata> {
  let text: string;
  try {
    text = await readTextSmallFirst(p);
  } catch {
    throw new ManifestError(`${p}: missing`);
  }
  return parseMetadata(text, p);
}

async function readTree(root: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const walk = async (dir: string): Promise<void> => {
    // small files (and the listings) synchronously: small-files.ts
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, ent.name);
      if (ent.isDirectory()) await walk(full);
      else if (ent.isFile()) files.set(relative(root, full).split('\\').join('/'), ownedBytes(await readSmallFirst(full)));
    }
  };
  await walk(root);
  return files;
}

async function readZip(path: string): Promise<PackageSource> {
  const m = /^([^:]+):([^:]+)\.zip$/.exec(basename(path));
  if (!m) throw new ManifestError(`${path}: a package zip must be named <package>:<publisher>.zip`);
  const zip = ownedBytes(await readFile(path));
  const files = await unzipBytes(zip, path);
  // no metadata.json inside a kit zip: the world comes from the components themselves
  return { metadata: { packageName: m[1]!, publisher: m[2]!, witVersion: undefined }, files, label: path, zip };
}

/** The files of a zip held in memory (the app store's NewPackage blob, a package's api.zip). */
export function unzipBytes(bytes: Uint8Array, label: string): Promise<Map<string, Uint8Array>> {
  return new Promise((resolve, reject) => {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    yauzl.fromBuffer(buf, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(new ManifestError(`${label}: not a readable zip (${err?.message})`));
      readEntries(zip, label).then(resolve, reject);
    });
  });
}

function readEntries(zip: yauzl.ZipFile, label: string): Promise<Map<string, Uint8Array>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Uint8Array>();
    zip.on('error', (e: Error) => reject(new ManifestError(`${label}: ${e.message}`)));
    zip.on('end', () => resolve(files));
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) return zip.readEntry();
      if (entry.uncompressedSize > MAX_ZIP_ENTRY) return reject(new ManifestError(`${label}: entry ${entry.fileName} too large`));
      zip.openReadStream(entry, (e2, stream) => {
        if (e2 || !stream) return reject(new ManifestError(`${label}: ${e2?.message}`));
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          files.set(entry.fileName, new Uint8Array(Buffer.concat(chunks)));
          zip.readEntry();
        });
        stream.on('error', (e3: Error) => reject(new ManifestError(`${label}: ${e3.message}`)));
      });
    });
    zip.readEntry();
  });
}
