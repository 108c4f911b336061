// The msgpack envelope of http-server's extension WebSockets, byte for byte as the Kinode
// runtime writes it with `rmp_serde::to_vec_named(&HttpServerAction::WebSocketExtPushData {..})`:
//
//   map(1) { "WebSocketExtPushData": map(3) { "id": uint, "kinode_message_type": str, "blob": array(uint) } }
//
// rmp-serde writes every integer in its smallest unsigned form, maps and arrays with the smallest
// header, struct fields by name, unit variants as plain strings, and a `Vec<u8>` as an array of
// integers (not `bin`). msgpackr does all of that with `useRecords: false` and
// `variableMapSize: true`, except for u64 values of 2^32 and above, which it writes as signed
// int64 (0xd3); the `U64` wrapper below makes it write them as uint64 (0xcf) instead.
//
// Incoming frames are decoded leniently, as rmp-serde does: a struct may be a map or an array, a
// `Vec<u8>` an array of integers or `bin`, and trailing bytes after the first value are ignored.

import { addExtension, Packr, Unpackr } from 'msgpackr';
import { actionFromValue, WireError, type Generation, type HttpServerAction, type Json, type MessageType } from './http-server.js';

/** A u64 that msgpackr writes in rmp's smallest unsigned encoding. */
class U64 {
  constructor(readonly value: bigint) {}
}

// a private extension code; `pack` writes plain msgpack (no ext header) through `allocate`
const U64_EXT_TYPE = 0x4b;
addExtension({
  Class: U64,
  type: U64_EXT_TYPE,
  pack(instance: U64, allocate: (size: number) => { target: Uint8Array; targetView: DataView; position: number }) {
    const v = instance.value;
    if (v <= 0xffffffffn) {
      // never reached through `u64` (small values are plain numbers); kept for completeness
      const { targetView, position } = allocate(5);
      targetView.setUint8(position, 0xce);
      targetView.setUint32(position + 1, Number(v));
      return undefined;
    }
    const { targetView, position } = allocate(9);
    targetView.setUint8(position, 0xcf);
    targetView.setBigUint64(position + 1, v);
    return undefined;
  },
  unpack(buffer: Uint8Array) {
    return buffer;
  },
} as unknown as Parameters<typeof addExtension>[0]);

const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });

/** A value for msgpackr that encodes as rmp's u64. */
function u64(v: bigint): number | U64 {
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError('not a u64');
  return v <= 0xffffffffn ? Number(v) : new U64(v);
}

/** `rmp_serde::to_vec_named(&HttpServerAction::WebSocketExtPushData { id, kinode_message_type, blob })` */
export function encodeExtPushData(id: bigint, kinodeMessageType: MessageType, blob: Uint8Array): Uint8Array {
  const inner = new Map<string, unknown>([
    ['id', u64(id)],
    ['kinode_message_type', kinodeMessageType],
    ['blob', Array.from(blob)],
  ]);
  return packr.pack(new Map([['WebSocketExtPushData', inner]]));
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'bigint' });

/** The first msgpack value of `bytes` (rmp-serde's `from_slice` ignores what follows). */
function firstValue(bytes: Uint8Array): unknown {
  let first: unknown;
  let got = false;
  unpackr.unpackMultiple(bytes as Buffer, (v: unknown) => {
    first = v;
    got = true;
    return false;
  });
  if (!got) throw new WireError('empty msgpack');
  return first;
}

/** Map a decoded msgpack value onto the JSON tree the serde rules in http-server.ts read. */
function toTree(v: unknown, depth = 0): Json {
  if (depth > 128) throw new WireError('msgpack nesting too deep');
  if (v === null || v === undefined) return { k: 'null' };
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (typeof v === 'bigint') return { k: 'num', raw: v.toString() };
  if (typeof v === 'number') {
    // integers keep an integer lexeme; floats get one the integer rules reject
    return { k: 'num', raw: Number.isInteger(v) ? BigInt(v).toString() : `${v}${String(v).includes('.') ? '' : '.0'}` };
  }
  if (typeof v === 'string') return { k: 'str', v };
  if (v instanceof Uint8Array) return { k: 'arr', v: Array.from(v, (b) => ({ k: 'num', raw: String(b) }) as Json) };
  if (Array.isArray(v)) return { k: 'arr', v: v.map((x) => toTree(x, depth + 1)) };
  if (v instanceof Map) {
    const entries: Array<[string, Json]> = [];
    for (const [k, val] of v) {
      if (typeof k !== 'string') throw new WireError('msgpack map key is not a string');
      entries.push([k, toTree(val, depth + 1)]);
    }
    return { k: 'obj', v: entries };
  }
  throw new WireError('unsupported msgpack value');
}

export type ExtFrame =
  | { kind: 'push-data'; id: bigint; kinodeMessageType: MessageType; blob: Uint8Array }
  /** decoded as some other HttpServerAction: the runtime drops it with a print */
  | { kind: 'other-action'; action: HttpServerAction }
  /** not an HttpServerAction: forwarded as a plain push */
  | { kind: 'raw' };

/** An incoming frame on an `extension: true` binding, decoded as `HttpServerAction` of `gen`. */
export function decodeExtFrame(bytes: Uint8Array, gen: Generation): ExtFrame {
  let action: HttpServerAction;
  try {
    action = actionFromValue(toTree(firstValue(bytes)), gen);
  } catch {
    return { kind: 'raw' };
  }
  if (action.tag === 'WebSocketExtPushData') {
    return { kind: 'push-data', id: action.id, kinodeMessageType: action.kinodeMessageType, blob: action.blob };
  }
  return { kind: 'other-action', action };
}
