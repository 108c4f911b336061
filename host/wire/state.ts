// Wire shapes of `state:distro:sys` (same name and shapes in both eras; runtime `state.rs` and
// `StateAction`/`StateResponse`/`StateError` in lib v0.9.10 core.rs and v1.0.0 state.rs, which
// are identical): `{"GetState":"p:k:pub"}`, `{"SetState":"p:k:pub"}` (blob = the bytes),
// `{"DeleteState":"p:k:pub"}`, `"Backup"`; replies `"GetState"` (+ blob), `"SetState"`,
// `"DeleteState"`, `"Backup"`, or `{"Err":<StateError>}`.

import { IdParseError, parseProcessId } from '../kernel/address.js';
import { enumTag, needVal, parseJson, q, unitOnly, WireError, asString } from './serde-json.js';

export type StateAction =
  | { tag: 'GetState' | 'SetState' | 'DeleteState'; pid: string }
  | { tag: 'Backup' };

const VARIANTS = ['GetState', 'SetState', 'DeleteState', 'Backup'] as const;

export type StateError =
  | { kind: 'NotFound'; processId: string }
  | { kind: 'BadBytes'; action: string }
  | { kind: 'BadJson'; error: string }
  | { kind: 'BadRequest'; error: string }
  | { kind: 'IOError'; error: string };

/** Body of a request to the module; throws WireError with serde's wording where it would fail. */
export function parseStateAction(body: Uint8Array): StateAction {
  const { tag, val } = enumTag(parseJson(body), 'StateAction');
  switch (tag) {
    case 'GetState':
    case 'SetState':
    case 'DeleteState': {
      const text = asString(needVal(val, tag), 'ProcessId');
      try {
        // serde reads a ProcessId with the runtime's parser; keep its canonical text as the key
        const p = parseProcessId(text);
        return { tag, pid: `${p.processName}:${p.packageName}:${p.publisherNode}` };
      } catch (e) {
        if (e instanceof IdParseError) throw new WireError(e.message);
        throw e;
      }
    }
    case 'Backup':
      unitOnly(val, tag);
      return { tag };
    default:
      throw new WireError(`unknown variant \`${tag}\`, expected one of ${VARIANTS.map((v) => `\`${v}\``).join(', ')}`);
  }
}

/** A success reply body: the action's name as a unit variant. */
export const stateOk = (tag: StateAction['tag']): Uint8Array => new TextEncoder().encode(q(tag));

export function stateErrBody(e: StateError): Uint8Array {
  let inner: string;
  switch (e.kind) {
    case 'NotFound':
      inner = `{"process_id":${q(e.processId)}}`;
      break;
    case 'BadBytes':
      inner = `{"action":${q(e.action)}}`;
      break;
    default:
      inner = `{"error":${q(e.error)}}`;
  }
  return new TextEncoder().encode(`{"Err":{"${e.kind}":${inner}}}`);
}
