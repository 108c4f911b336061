// What kit sends, rebuilt byte for byte for the tests: the package zip `kit build` makes (the
// contents of pkg/ at the zip's root) and the RPC bodies of `kit start-package` (serde_json's
// `json!` objects: compact, keys in sorted order), both eras' app store names.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import yazl from 'yazl';

/** Zip every file under `<pkgDir>` (kit: `target/<p>:<pub>.zip` of pkg/). */
export function zipDir(pkgDir: string, extra: Record<string, Uint8Array | string> = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else zip.addBuffer(readFileSync(full), relative(pkgDir, full), { mtime: new Date(2023, 5, 19), mode: 0o100755 });
    }
  };
  walk(pkgDir);
  for (const [name, bytes] of Object.entries(extra)) zip.addBuffer(Buffer.from(bytes), name, { mtime: new Date(2023, 5, 19) });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** kit's `inject_message::make_message` as serde_json prints it. */
export function rpcBody(process: string, body: string, data: Uint8Array | undefined, expects: number | null = 15): string {
  return (
    `{"body":${JSON.stringify(body)},"context":null,"data":${data ? JSON.stringify(Buffer.from(data).toString('base64')) : 'null'},` +
    `"expects_response":${expects === null ? 'null' : expects},"inherit":false,"metadata":null,"mime":"application/octet-stream","node":null,"process":${JSON.stringify(process)}}`
  );
}

export const newPackageBody = (p: string, pub: string): string =>
  `{"NewPackage":{"mirror":true,"package_id":{"package_name":${JSON.stringify(p)},"publisher_node":${JSON.stringify(pub)}}}}`;

/** kit's Install body for a metadata.json as makePackage writes it. */
export function installBody(p: string, pub: string, hash: string, witVersion: number | null): string {
  const metadata = {
    animation_url: '',
    description: '',
    external_url: '',
    image: '',
    name: p,
    properties: {
      api_includes: null,
      code_hashes: [['0.1.0', '']],
      current_version: '0.1.0',
      dependencies: [],
      license: null,
      mirrors: [],
      package_name: p,
      publisher: pub,
      screenshots: null,
      wit_version: witVersion,
    },
  };
  return `{"Install":{"metadata":${JSON.stringify(metadata)},"package_id":{"package_name":${JSON.stringify(p)},"publisher_node":${JSON.stringify(pub)}},"version_hash":${JSON.stringify(hash)}}}`;
}

/** POST an RPC body as kit's reqwest `.json()` does; returns status and the reply body's UTF-8. */
export async function postRpc(port: number, json: string): Promise<{ status: number; body: string | undefined }> {
  const res = await fetch(`http://127.0.0.1:${port}/rpc:distro:sys/message`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json,
  });
  const text = await res.text();
  if (res.status !== 200 || text === '') return { status: res.status, body: undefined };
  return { status: res.status, body: Buffer.from((JSON.parse(text) as { body: number[] }).body).toString('utf8') };
}
