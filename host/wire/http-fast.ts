// Fast readers for the two http-server bodies that cross the kernel thread once per HTTP request
// or WebSocket frame, in the exact compact form serde_json (process_lib) writes them:
//   {"status":200,"headers":{"Content-Type":"text/plain"}}
//   {"WebSocketPush":{"channel_id":123,"message_type":"Binary"}}
// They read the bytes in place (no UTF-8 decode, no JSON tree) and answer undefined for anything
// else — whitespace, escapes, non-ASCII, other field orders, duplicate keys — so the strict
// serde_json reader (http-server.ts) still decides every other case, with the same result.

import { ascii, lit, plainString } from './fast-scan.js';
import { StringCache } from './string-cache.js';

const enum C {
  COMMA = 0x2c,
  COLON = 0x3a,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
  ZERO = 0x30,
  NINE = 0x39,
}

const STATUS = ascii('{"status":');
const HEADERS = ascii(',"headers":{');
const PUSH = ascii('{"WebSocketPush":{"channel_id":');
const MESSAGE_TYPE = ascii(',"message_type":"');

/** Whether `b` holds `word` at `at` (fast-scan.ts's `lit`). */
const startsAt = (b: Uint8Array, at: number, word: Uint8Array): boolean => lit(b, at, word) >= 0;

/** Digits at `at` (no sign, no leading zero unless alone): [value, end] or undefined. */
function uintAt(b: Uint8Array, at: number, maxDigits: number): [number, number] | undefined {
  let i = at;
  let v = 0;
  while (i < b.length && b[i]! >= C.ZERO && b[i]! <= C.NINE && i - at < maxDigits) v = v * 10 + (b[i++]! - C.ZERO);
  if (i === at || (b[at] === C.ZERO && i - at > 1)) return undefined;
  if (i < b.length && b[i]! >= C.ZERO && b[i]! <= C.NINE) return undefined; // too many digits
  return [v, i];
}

/** A JSON string of printable ASCII without escapes at `at` (on its opening quote): [text, end]. */
function plainStringAt(b: Uint8Array, at: number): [string, number] | undefined {
  const end = plainString(b, at);
  return end < 0 ? undefined : [recent.text(b, at + 1, end - 1), end];
}

/** A process names the same headers and values on every response: read through a cache. */
const recent = new StringCache(64, 64);

/** `HttpResponse` in process_lib's compact form, or undefined (then the strict reader decides). */
export function fastHttpResponse(b: Uint8Array): { status: number; headers: Array<[string, string]> } | undefined {
  if (!startsAt(b, 0, STATUS)) return undefined;
  const st = uintAt(b, STATUS.length, 5);
  if (!st || st[0] > 0xffff) return undefined;
  let at = st[1];
  if (!startsAt(b, at, HEADERS)) return undefined;
  at += HEADERS.length;
  const headers: Array<[string, string]> = [];
  if (b[at] !== C.RBRACE) {
    for (;;) {
      const k = plainStringAt(b, at);
      if (!k || b[k[1]] !== C.COLON) return undefined;
      const v = plainStringAt(b, k[1] + 1);
      if (!v) return undefined;
      for (const [name] of headers) if (name === k[0]) return undefined; // duplicate key: strict reader
      headers.push([k[0], v[0]]);
      at = v[1];
      if (b[at] === C.COMMA) {
        at++;
        continue;
      }
      break;
    }
  }
  if (b[at] !== C.RBRACE || b[at + 1] !== C.RBRACE || at + 2 !== b.length) return undefined;
  return { status: st[0], headers };
}

const WS_TYPES = ['Text', 'Binary', 'Ping', 'Pong', 'Close'] as const;
/** each type's name as it ends the body: `Binary"}}` */
const WS_TYPE_TAILS = WS_TYPES.map((t) => ascii(`${t}"}}`));

/**
 * `WebSocketPush { channel_id, message_type }` in compact form, or undefined. One per frame a
 * process pushes: the type's name is compared in place as bytes (no string is made).
 */
export function fastWsPush(b: Uint8Array): { channelId: number; messageType: (typeof WS_TYPES)[number] } | undefined {
  if (!startsAt(b, 0, PUSH)) return undefined;
  const id = uintAt(b, PUSH.length, 10);
  if (!id || id[0] > 0xffffffff) return undefined;
  const i = id[1];
  if (!startsAt(b, i, MESSAGE_TYPE)) return undefined;
  const at = i + MESSAGE_TYPE.length;
  const n = b.length - at;
  for (let t = 0; t < WS_TYPE_TAILS.length; t++) {
    const tail = WS_TYPE_TAILS[t]!;
    if (tail.length === n && startsAt(b, at, tail)) return { channelId: id[0], messageType: WS_TYPES[t]! };
  }
  return undefined;
}
