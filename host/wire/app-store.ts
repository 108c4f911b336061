// The app store's requests and responses as far as `kit start-package` uses them (serde JSON,
// the same in both eras): `{"NewPackage":{"package_id":{...},"mirror":bool}}` with the zip as
// blob, and `{"Install":{"package_id":{...},"version_hash":"<sha256 hex>","metadata":{...}|null}}`.
// Replies: `{"NewPackageResponse":"Success"|"NoBlob"|"InstallFailed"}`,
// `{"InstallResponse":"Success"|"Failure"}`, and `{"HandlingError":"<text>"}` for anything else.

import { asOptU64, asString, enumTag, needVal, parseJson, q, structFields, WireError, type Json } from './serde-json.js';

export interface PackageIdJson {
  packageName: string;
  publisherNode: string;
}

export type AppStoreRequest =
  | { tag: 'NewPackage'; packageId: PackageIdJson; mirror: boolean }
  | { tag: 'Install'; packageId: PackageIdJson; versionHash: string; witVersion: number | undefined };

function packageId(v: Json): PackageIdJson {
  const f = structFields(v, 'PackageId', ['package_name', 'publisher_node']);
  return { packageName: asString(f.get('package_name')!, 'package_name'), publisherNode: asString(f.get('publisher_node')!, 'publisher_node') };
}

/** `metadata.properties.wit_version` when given (the world to install in); undefined otherwise. */
function witVersionOf(metadata: Json): number | undefined {
  if (metadata.k !== 'obj') return undefined;
  const props = metadata.v.find(([k]) => k === 'properties')?.[1];
  if (!props || props.k !== 'obj') return undefined;
  const wit = props.v.find(([k]) => k === 'wit_version')?.[1];
  if (!wit) return undefined;
  const n = asOptU64(wit, 'wit_version');
  return n === undefined ? undefined : Number(n);
}

/** Throws WireError for anything the app store cannot handle. */
export function parseAppStoreRequest(body: Uint8Array): AppStoreRequest {
  const { tag, val } = enumTag(parseJson(body), 'Request');
  if (tag === 'NewPackage') {
    const f = structFields(needVal(val, tag), tag, ['package_id', 'mirror']);
    const mirror = f.get('mirror')!;
    if (mirror.k !== 'bool') throw new WireError('mirror: expected a boolean');
    return { tag, packageId: packageId(f.get('package_id')!), mirror: mirror.v };
  }
  if (tag === 'Install') {
    const f = structFields(needVal(val, tag), tag, ['package_id', 'version_hash', 'metadata'], ['metadata']);
    return {
      tag,
      packageId: packageId(f.get('package_id')!),
      versionHash: asString(f.get('version_hash')!, 'version_hash'),
      witVersion: witVersionOf(f.get('metadata')!),
    };
  }
  throw new WireError(`unknown variant \`${tag}\` (kinode-host's app store handles NewPackage and Install)`);
}

export type NewPackageResponse = 'Success' | 'NoBlob' | 'InstallFailed';
export type InstallResponse = 'Success' | 'Failure';

export const newPackageResponse = (r: NewPackageResponse): string => `{"NewPackageResponse":${q(r)}}`;
export const installResponse = (r: InstallResponse): string => `{"InstallResponse":${q(r)}}`;
export const handlingError = (text: string): string => `{"HandlingError":${q(text)}}`;
