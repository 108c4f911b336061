// Wire shapes of `homepage:homepage:sys` (kinode-modules.md §6.2), as serde_json reads and writes
// them in the runtime's homepage package (0.9.10 / 1.0.0):
//   Request: {"Add":{"label","icon"?,"path"?,"widget"?}} | "Remove" | {"SetStylesheet":"<css>"}
//            and, 1.0 only, {"RemoveOther":"p:k:pub"} | "GetApps"
//   Response (1.0, to GetApps only): {"GetApps":[<app>...]}
//   App: {"id","process","package" (1.0: "package_name"),"publisher","path","label",
//         "base64_icon","widget","order","favorite"} in this field order.
// The homepage ignores bodies it cannot parse, so parse errors are never answered.

import type { Generation } from '../types.js';
import { asOptString, asString, asUint, enumTag, needVal, parseJson, structFields, unitOnly, WireError, type Json } from './serde-json.js';

export type HomepageRequest =
  | { tag: 'Add'; label: string; icon: string | undefined; path: string | undefined; widget: string | undefined }
  | { tag: 'Remove' }
  | { tag: 'SetStylesheet'; css: string }
  | { tag: 'RemoveOther'; id: string }
  | { tag: 'GetApps' };

/** Throws WireError (including for 1.0-only variants from a 0.9 sender). */
export function parseHomepageRequest(body: Uint8Array, gen: Generation): HomepageRequest {
  const { tag, val } = enumTag(parseJson(body), 'homepage::Request');
  switch (tag) {
    case 'Add': {
      const f = structFields(needVal(val, tag), 'AddRequest', ['label', 'icon', 'path', 'widget'], ['icon', 'path', 'widget']);
      return {
        tag,
        label: asString(f.get('label')!, 'label'),
        icon: asOptString(f.get('icon')!, 'icon'),
        path: asOptString(f.get('path')!, 'path'),
        widget: asOptString(f.get('widget')!, 'widget'),
      };
    }
    case 'Remove':
      unitOnly(val, tag);
      return { tag };
    case 'SetStylesheet':
      return { tag, css: asString(needVal(val, tag), tag) };
    case 'RemoveOther':
      if (gen === 0) break;
      return { tag, id: asString(needVal(val, tag), tag) };
    case 'GetApps':
      if (gen === 0) break;
      unitOnly(val, tag);
      return { tag };
  }
  throw new WireError(`homepage::Request: unknown variant \`${tag}\``);
}

export interface HomepageApp {
  /** the adding process's id, `p:k:pub` */
  id: string;
  process: string;
  packageName: string;
  publisher: string;
  /** `/<process id>/<path>` */
  path: string | undefined;
  label: string;
  /** used as an `<img src>` (a data: URL) */
  icon: string | undefined;
  /** raw HTML shown in an iframe */
  widget: string | undefined;
  order: number;
  favorite: boolean;
}

/** The app record in one generation's shape; `both` carries `package` and `package_name` (for /apps). */
export function appJson(a: HomepageApp, shape: Generation | 'both'): Record<string, unknown> {
  const pkg = shape === 0 ? { package: a.packageName } : shape === 1 ? { package_name: a.packageName } : { package: a.packageName, package_name: a.packageName };
  return {
    id: a.id,
    process: a.process,
    ...pkg,
    publisher: a.publisher,
    path: a.path ?? null,
    label: a.label,
    base64_icon: a.icon ?? null,
    widget: a.widget ?? null,
    order: a.order,
    favorite: a.favorite,
  };
}

/** `{"GetApps":[...]}` (1.0 shape). */
export function getAppsResponseBody(apps: HomepageApp[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ GetApps: apps.map((a) => appJson(a, 1)) }));
}

/** The capability params the 1.0 homepage checks: `"SetStylesheet"` / `"RemoveOther"` (JSON strings). */
export const SET_STYLESHEET_CAP = '"SetStylesheet"';
export const REMOVE_OTHER_CAP = '"RemoveOther"';

/** `/order` body: `[["<app id>", 3], ...]`; `/favorite` body: `["<app id>", true]`. Throw WireError. */
export function parseOrderBody(bytes: Uint8Array): Array<[string, number]> {
  const v = parseJson(bytes);
  if (v.k !== 'arr') throw new WireError('order: expected a list');
  return v.v.map((e) => {
    if (e.k !== 'arr' || e.v.length !== 2) throw new WireError('order: expected [id, order]');
    const [id, n] = e.v as [Json, Json];
    return [asString(id, 'id'), Number(asUint(n, 'order', 32))];
  });
}

export function parseFavoriteBody(bytes: Uint8Array): [string, boolean] {
  const v = parseJson(bytes);
  if (v.k !== 'arr' || v.v.length !== 2) throw new WireError('favorite: expected [id, bool]');
  const [id, b] = v.v as [Json, Json];
  if (b.k !== 'bool') throw new WireError('favorite: expected a boolean');
  return [asString(id, 'id'), b.v];
}
