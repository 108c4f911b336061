// Wire shapes of `http-client:distro:sys` (v0 `http_client:distro:sys`), as serde_json reads and
// writes them in the Kinode runtime: externally tagged enums, struct fields in Rust declaration
// order, newtype variants bare, unit variants as plain strings.
//
// Parsing follows serde's derive rules rather than JSON.parse: unknown fields are ignored, missing
// `Option` fields are `None`, other missing fields, duplicate struct fields, wrong JSON types,
// non-integer or out-of-range numbers and invalid UTF-8 are errors; structs may also come as
// JSON arrays (serde's sequence form). A body that fails is answered with the generation's
// "malformed request" error.

// ------------------------------------------------------------------ strict JSON (serde_json)

export type Json =
  | { k: 'null' }
  | { k: 'bool'; v: boolean }
  /** the number's lexeme, so integers and floats stay apart as they do for serde_json */
  | { k: 'num'; raw: string }
  | { k: 'str'; v: string }
  | { k: 'arr'; v: Json[] }
  | { k: 'obj'; v: Array<[string, Json]> };

export class WireError extends Error {}

const RECURSION_LIMIT = 128; // serde_json's default
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse JSON text the way `serde_json::from_slice` accepts it. Throws WireError. */
export function parseJson(bytes: Uint8Array): Json {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new WireError('invalid UTF-8');
  }
  const p = new JsonParser(text);
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.pos !== text.length) throw new WireError(`trailing characters at ${p.pos}`);
  return v;
}

class JsonParser {
  pos = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else return;
    }
  }

  private fail(what: string): never {
    throw new WireError(`${what} at ${this.pos}`);
  }

  private lit(word: string): void {
    if (this.s.startsWith(word, this.pos)) this.pos += word.length;
    else this.fail('expected value');
  }

  value(depth: number): Json {
    const c = this.s[this.pos];
    switch (c) {
      case 'n':
        this.lit('null');
        return { k: 'null' };
      case 't':
        this.lit('true');
        return { k: 'bool', v: true };
      case 'f':
        this.lit('false');
        return { k: 'bool', v: false };
      case '"':
        return { k: 'str', v: this.string() };
      case '[': {
        if (depth >= RECURSION_LIMIT) this.fail('recursion limit exceeded');
        this.pos++;
        const v: Json[] = [];
        this.ws();
        if (this.s[this.pos] === ']') {
          this.pos++;
          return { k: 'arr', v };
        }
        for (;;) {
          this.ws();
          v.push(this.value(depth + 1));
          this.ws();
          const d = this.s[this.pos++];
          if (d === ']') return { k: 'arr', v };
          if (d !== ',') this.fail('expected `,` or `]`');
        }
      }
      case '{': {
        if (depth >= RECURSION_LIMIT) this.fail('recursion limit exceeded');
        this.pos++;
        const v: Array<[string, Json]> = [];
        this.ws();
        if (this.s[this.pos] === '}') {
          this.pos++;
          return { k: 'obj', v };
        }
        for (;;) {
          this.ws();
          if (this.s[this.pos] !== '"') this.fail('key must be a string');
          const key = this.string();
          this.ws();
          if (this.s[this.pos++] !== ':') this.fail('expected `:`');
          this.ws();
          v.push([key, this.value(depth + 1)]);
          this.ws();
          const d = this.s[this.pos++];
          if (d === '}') return { k: 'obj', v };
          if (d !== ',') this.fail('expected `,` or `}`');
        }
      }
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return { k: 'num', raw: this.number() };
        return this.fail('expected value');
    }
  }

  private number(): string {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (!m) this.fail('invalid number');
    this.pos += m[0].length;
    // "01" is an error for serde_json (a number followed by trailing characters)
    return m[0];
  }

  private hex4(): number {
    const h = this.s.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('invalid escape');
    this.pos += 4;
    return parseInt(h, 16);
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    let start = this.pos;
    for (;;) {
      const c = this.s.charCodeAt(this.pos);
      if (Number.isNaN(c)) this.fail('EOF while parsing a string');
      if (c === 0x22) {
        out += this.s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += this.s.slice(start, this.pos);
      this.pos++;
      const e = this.s[this.pos++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const u = this.hex4();
          if (u >= 0xdc00 && u <= 0xdfff) this.fail('lone trailing surrogate');
          if (u >= 0xd800 && u <= 0xdbff) {
            if (this.s[this.pos] !== '\\' || this.s[this.pos + 1] !== 'u') this.fail('lone leading surrogate');
            this.pos += 2;
            const lo = this.hex4();
            if (lo < 0xdc00 || lo > 0xdfff) this.fail('invalid surrogate pair');
            out += String.fromCharCode(u, lo);
          } else {
            out += String.fromCharCode(u);
          }
          break;
        }
        default:
          this.fail('invalid escape');
      }
      start = this.pos;
    }
  }
}

// ------------------------------------------------------------------ serde derive rules

function asString(v: Json, what: string): string {
  if (v.k !== 'str') throw new WireError(`${what}: expected a string`);
  return v.v;
}

function asOptString(v: Json, what: string): string | undefined {
  return v.k === 'null' ? undefined : asString(v, what);
}

function asU32(v: Json, what: string): number {
  if (v.k !== 'num' || /[.eE]/.test(v.raw)) throw new WireError(`${what}: expected u32`);
  const n = Number(v.raw);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new WireError(`${what}: expected u32`);
  return n === 0 ? 0 : n; // "-0" reads as 0
}

/** HashMap<String, String>: later duplicates win; entry order kept. */
function asStringMap(v: Json, what: string): Array<[string, string]> {
  if (v.k !== 'obj') throw new WireError(`${what}: expected a map`);
  const m = new Map<string, string>();
  for (const [k, val] of v.v) m.set(k, asString(val, `${what}.${k}`));
  return [...m.entries()];
}

/**
 * A struct with `fields` in declaration order, from a JSON object (unknown keys ignored,
 * duplicates rejected) or array (exact length). `optional` fields may be missing from an object.
 */
function structFields(v: Json, name: string, fields: readonly string[], optional: readonly string[] = []): Map<string, Json> {
  const out = new Map<string, Json>();
  if (v.k === 'arr') {
    if (v.v.length !== fields.length) throw new WireError(`${name}: expected ${fields.length} elements`);
    fields.forEach((f, i) => out.set(f, v.v[i]!));
    return out;
  }
  if (v.k !== 'obj') throw new WireError(`${name}: expected a struct`);
  for (const [k, val] of v.v) {
    if (!fields.includes(k)) continue;
    if (out.has(k)) throw new WireError(`${name}: duplicate field \`${k}\``);
    out.set(k, val);
  }
  for (const f of fields) {
    if (out.has(f)) continue;
    if (optional.includes(f)) out.set(f, { k: 'null' });
    else throw new WireError(`${name}: missing field \`${f}\``);
  }
  return out;
}

/** Externally tagged enum: `"Unit"` or `{"Variant": value}` (exactly one key). */
function enumTag(v: Json, name: string): { tag: string; val: Json | undefined } {
  if (v.k === 'str') return { tag: v.v, val: undefined };
  if (v.k === 'obj' && v.v.length === 1) return { tag: v.v[0]![0], val: v.v[0]![1] };
  throw new WireError(`${name}: expected an enum`);
}

function unitOnly(val: Json | undefined, name: string): void {
  // serde_json accepts a unit variant as "Name" or {"Name": null}
  if (val !== undefined && val.k !== 'null') throw new WireError(`${name}: expected unit variant`);
}

function needVal(val: Json | undefined, name: string): Json {
  if (val === undefined) throw new WireError(`${name}: expected a value, found a unit variant`);
  return val;
}

// ------------------------------------------------------------------ actions (process -> module)

export type WsMessageType = 'Text' | 'Binary' | 'Ping' | 'Pong' | 'Close';
const WS_MESSAGE_TYPES: readonly WsMessageType[] = ['Text', 'Binary', 'Ping', 'Pong', 'Close'];

export interface OutgoingHttpRequest {
  method: string;
  version: string | undefined;
  url: string;
  /** in the order given; later duplicates already folded */
  headers: Array<[string, string]>;
}

export type HttpClientAction =
  | { tag: 'Http'; req: OutgoingHttpRequest }
  | { tag: 'WebSocketOpen'; url: string; headers: Array<[string, string]>; channelId: number }
  | { tag: 'WebSocketPush'; channelId: number; messageType: WsMessageType }
  | { tag: 'WebSocketClose'; channelId: number };

function parseWsMessageType(v: Json): WsMessageType {
  const { tag, val } = enumTag(v, 'WsMessageType');
  if (!(WS_MESSAGE_TYPES as readonly string[]).includes(tag)) throw new WireError(`unknown variant \`${tag}\``);
  unitOnly(val, tag);
  return tag as WsMessageType;
}

/** Body of a request to the module. Throws WireError where serde_json would fail. */
export function parseHttpClientAction(body: Uint8Array): HttpClientAction {
  const { tag, val } = enumTag(parseJson(body), 'HttpClientAction');
  switch (tag) {
    case 'Http': {
      const f = structFields(needVal(val, tag), 'OutgoingHttpRequest', ['method', 'version', 'url', 'headers'], ['version']);
      return {
        tag,
        req: {
          method: asString(f.get('method')!, 'method'),
          version: asOptString(f.get('version')!, 'version'),
          url: asString(f.get('url')!, 'url'),
          headers: asStringMap(f.get('headers')!, 'headers'),
        },
      };
    }
    case 'WebSocketOpen': {
      const f = structFields(needVal(val, tag), tag, ['url', 'headers', 'channel_id']);
      return {
        tag,
        url: asString(f.get('url')!, 'url'),
        headers: asStringMap(f.get('headers')!, 'headers'),
        channelId: asU32(f.get('channel_id')!, 'channel_id'),
      };
    }
    case 'WebSocketPush': {
      const f = structFields(needVal(val, tag), tag, ['channel_id', 'message_type']);
      return { tag, channelId: asU32(f.get('channel_id')!, 'channel_id'), messageType: parseWsMessageType(f.get('message_type')!) };
    }
    case 'WebSocketClose': {
      const f = structFields(needVal(val, tag), tag, ['channel_id']);
      return { tag, channelId: asU32(f.get('channel_id')!, 'channel_id') };
    }
    default:
      throw new WireError(`unknown variant \`${tag}\``);
  }
}

// ------------------------------------------------------------------ serializers (module -> process)

const q = (s: string): string => JSON.stringify(s); // same escapes as serde_json for Rust strings

function mapJson(entries: Iterable<[string, string]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${q(k)}:${q(v)}`);
  return `{${parts.join(',')}}`;
}

const enc = new TextEncoder();

/** `Ok(HttpClientResponse::Http(HttpResponse { status, headers }))` */
export function okHttp(status: number, headers: Iterable<[string, string]>): Uint8Array {
  return enc.encode(`{"Ok":{"Http":{"status":${status},"headers":${mapJson(headers)}}}}`);
}

/** `Ok(HttpClientResponse::WebSocketAck)` */
export function okAck(): Uint8Array {
  return enc.encode('{"Ok":"WebSocketAck"}');
}

/** Incoming frame notice: `HttpClientRequest::WebSocketPush` (same in both generations). */
export function wsPushRequest(channelId: number, messageType: WsMessageType): Uint8Array {
  return enc.encode(`{"WebSocketPush":{"channel_id":${channelId},"message_type":${q(messageType)}}}`);
}

/** `HttpClientRequest::WebSocketClose` */
export function wsCloseRequest(channelId: number): Uint8Array {
  return enc.encode(`{"WebSocketClose":{"channel_id":${channelId}}}`);
}

/**
 * What went wrong, independent of generation; `errorBody` renders it in the v0 or v1 enum.
 * The v0 texts are the runtime's (0.9.10) literal strings.
 */
export type ClientError =
  | { kind: 'malformed'; body: Uint8Array }
  | { kind: 'bad-method'; method: string }
  | { kind: 'bad-url'; url: string }
  | { kind: 'bad-version'; version: string }
  /** v1 BuildRequestFailed(text); v0 RequestFailed "failed to build request" */
  | { kind: 'build-failed'; text: string }
  /** v1 ExecuteRequestFailed(text); v0 RequestFailed(text) */
  | { kind: 'execute-failed'; text: string }
  | { kind: 'ws-open-failed'; url: string }
  /** a URL the WS handshake cannot be built for: v0 BadRequest, v1 WsOpenFailed */
  | { kind: 'ws-bad-request'; url: string }
  | { kind: 'ws-push-unknown-channel'; channelId: number }
  | { kind: 'ws-push-no-blob' }
  | { kind: 'ws-push-bad-text' }
  | { kind: 'ws-close-failed'; channelId: number };

function utf8OrEmpty(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    return '';
  }
}

function v0Error(e: ClientError): string {
  switch (e.kind) {
    case 'malformed':
      return `{"BadRequest":{"req":${q(utf8OrEmpty(e.body))}}}`;
    case 'bad-method':
      return `{"BadMethod":{"method":${q(e.method)}}}`;
    case 'bad-url':
      return `{"BadUrl":{"url":${q(e.url)}}}`;
    case 'bad-version':
      return `{"BadVersion":{"version":${q(e.version)}}}`;
    case 'build-failed':
      return `{"RequestFailed":{"error":"failed to build request"}}`;
    case 'execute-failed':
      return `{"RequestFailed":{"error":${q(e.text)}}}`;
    case 'ws-open-failed':
      return `{"WsOpenFailed":{"url":${q(e.url)}}}`;
    case 'ws-bad-request':
      return `{"BadRequest":{"req":"failed to parse url into client request"}}`;
    case 'ws-push-unknown-channel':
      return `{"WsPushFailed":{"req":${q(`channel_id ${e.channelId} not found`)}}}`;
    case 'ws-push-no-blob':
      return `{"WsPushFailed":{"req":"no blob"}}`;
    case 'ws-push-bad-text':
      return `{"WsPushFailed":{"req":"failed to convert blob to string"}}`;
    case 'ws-close-failed':
      return `{"WsCloseFailed":{"channel_id":${e.channelId}}}`;
  }
}

function v1Error(e: ClientError): string {
  switch (e.kind) {
    case 'malformed':
      return '"MalformedRequest"';
    case 'bad-method':
      return `{"BadMethod":{"method":${q(e.method)}}}`;
    case 'bad-url':
      return `{"BadUrl":{"url":${q(e.url)}}}`;
    case 'bad-version':
      return `{"BadVersion":{"version":${q(e.version)}}}`;
    case 'build-failed':
      return `{"BuildRequestFailed":${q(e.text)}}`;
    case 'execute-failed':
      return `{"ExecuteRequestFailed":${q(e.text)}}`;
    case 'ws-open-failed':
    case 'ws-bad-request':
      return `{"WsOpenFailed":{"url":${q(e.url)}}}`;
    case 'ws-push-unknown-channel':
      return `{"WsPushUnknownChannel":{"channel_id":${e.channelId}}}`;
    case 'ws-push-no-blob':
      return '"WsPushNoBlob"';
    case 'ws-push-bad-text':
      return '"WsPushBadText"';
    case 'ws-close-failed':
      return `{"WsCloseFailed":{"channel_id":${e.channelId}}}`;
  }
}

/** `Err(HttpClientError::…)` in the enum of generation `gen`. */
export function errorBody(e: ClientError, gen: 0 | 1): Uint8Array {
  return enc.encode(`{"Err":${gen === 0 ? v0Error(e) : v1Error(e)}}`);
}

// ------------------------------------------------------------------ readers (tests, tools)

export type ClientReply =
  | { ok: true; http: { status: number; headers: Record<string, string> } }
  | { ok: true; ack: true }
  | { ok: false; err: unknown };

/** Read a reply body of the module (either generation). Throws on anything else. */
export function readClientReply(body: Uint8Array): ClientReply {
  const v = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
  if ('Err' in v) return { ok: false, err: v.Err };
  const ok = v.Ok as unknown;
  if (ok === 'WebSocketAck') return { ok: true, ack: true };
  const http = (ok as { Http?: { status: number; headers: Record<string, string> } })?.Http;
  if (http) return { ok: true, http };
  throw new WireError('not an http-client reply');
}
