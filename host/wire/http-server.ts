// Wire shapes of `http-server:distro:sys` (v0 `http_server:distro:sys`), as serde_json reads and
// writes them in the Kinode runtime (0.9.10 / 1.0.0): externally tagged enums, struct fields in
// Rust declaration order, newtype variants bare, unit variants as plain strings.
//
// Parsing follows serde's derive rules: unknown fields are ignored, missing `Option` fields are
// `None`, other missing fields, duplicate fields, wrong JSON types and out-of-range integers are
// errors; structs may also come as JSON arrays (serde's sequence form). The JSON text itself is
// read by the strict serde_json-like reader of serde-json.ts.

import {
  asBool,
  asBytes,
  asOptBool,
  asOptString,
  asOptU64,
  asString,
  asStringMap,
  asU32,
  asUint,
  enumTag,
  needVal,
  parseJson,
  q,
  structFields,
  unitEnum,
  WireError,
  type Json,
} from './serde-json.js';
import { fastHttpResponse, fastWsPush } from './http-fast.js';

export { WireError, type Json };

export type Generation = 0 | 1;
export type WsMessageType = 'Text' | 'Binary' | 'Ping' | 'Pong' | 'Close';
export type MessageType = 'Request' | 'Response';

const WS_MESSAGE_TYPES: readonly string[] = ['Text', 'Binary', 'Ping', 'Pong', 'Close'];
const MESSAGE_TYPES: readonly string[] = ['Request', 'Response'];


const wsType = (v: Json): WsMessageType => unitEnum<WsMessageType>(v, 'WsMessageType', WS_MESSAGE_TYPES);
const msgType = (v: Json): MessageType => unitEnum<MessageType>(v, 'MessageType', MESSAGE_TYPES);

// ------------------------------------------------------------------ actions (process -> module)

export type HttpServerAction =
  | { tag: 'Bind'; path: string; authenticated: boolean; localOnly: boolean; cache: boolean }
  | { tag: 'SecureBind'; path: string; cache: boolean }
  | { tag: 'Unbind'; path: string }
  | { tag: 'WebSocketBind'; path: string; authenticated: boolean; extension: boolean }
  | { tag: 'WebSocketSecureBind'; path: string; extension: boolean }
  | { tag: 'WebSocketUnbind'; path: string }
  | { tag: 'WebSocketOpen'; path: string; channelId: number }
  | { tag: 'WebSocketPush'; channelId: number; messageType: WsMessageType }
  | { tag: 'WebSocketExtPushOutgoing'; channelId: number; messageType: WsMessageType; desiredReplyType: MessageType }
  | { tag: 'WebSocketExtPushData'; id: bigint; kinodeMessageType: MessageType; blob: Uint8Array }
  | { tag: 'WebSocketClose'; channelId: number };

/**
 * `HttpServerAction` of generation `gen` from an already-parsed value (JSON, or msgpack mapped
 * onto the same tree). v0's WebSocketBind/WebSocketSecureBind require `encrypted` (a bool that
 * has no effect); v1 has no such field and ignores it when present.
 */
export function actionFromValue(v: Json, gen: Generation): HttpServerAction {
  const { tag, val } = enumTag(v, 'HttpServerAction');
  switch (tag) {
    case 'Bind': {
      const f = structFields(needVal(val, tag), tag, ['path', 'authenticated', 'local_only', 'cache']);
      return {
        tag,
        path: asString(f.get('path')!, 'path'),
        authenticated: asBool(f.get('authenticated')!, 'authenticated'),
        localOnly: asBool(f.get('local_only')!, 'local_only'),
        cache: asBool(f.get('cache')!, 'cache'),
      };
    }
    case 'SecureBind': {
      const f = structFields(needVal(val, tag), tag, ['path', 'cache']);
      return { tag, path: asString(f.get('path')!, 'path'), cache: asBool(f.get('cache')!, 'cache') };
    }
    case 'Unbind':
    case 'WebSocketUnbind': {
      const f = structFields(needVal(val, tag), tag, ['path']);
      return { tag, path: asString(f.get('path')!, 'path') };
    }
    case 'WebSocketBind': {
      const fields = gen === 0 ? ['path', 'authenticated', 'encrypted', 'extension'] : ['path', 'authenticated', 'extension'];
      const f = structFields(needVal(val, tag), tag, fields);
      if (gen === 0) asBool(f.get('encrypted')!, 'encrypted');
      return {
        tag,
        path: asString(f.get('path')!, 'path'),
        authenticated: asBool(f.get('authenticated')!, 'authenticated'),
        extension: asBool(f.get('extension')!, 'extension'),
      };
    }
    case 'WebSocketSecureBind': {
      const fields = gen === 0 ? ['path', 'encrypted', 'extension'] : ['path', 'extension'];
      const f = structFields(needVal(val, tag), tag, fields);
      if (gen === 0) asBool(f.get('encrypted')!, 'encrypted');
      return { tag, path: asString(f.get('path')!, 'path'), extension: asBool(f.get('extension')!, 'extension') };
    }
    case 'WebSocketOpen': {
      const f = structFields(needVal(val, tag), tag, ['path', 'channel_id']);
      return { tag, path: asString(f.get('path')!, 'path'), channelId: asU32(f.get('channel_id')!, 'channel_id') };
    }
    case 'WebSocketPush': {
      const f = structFields(needVal(val, tag), tag, ['channel_id', 'message_type']);
      return { tag, channelId: asU32(f.get('channel_id')!, 'channel_id'), messageType: wsType(f.get('message_type')!) };
    }
    case 'WebSocketExtPushOutgoing': {
      const f = structFields(needVal(val, tag), tag, ['channel_id', 'message_type', 'desired_reply_type']);
      return {
        tag,
        channelId: asU32(f.get('channel_id')!, 'channel_id'),
        messageType: wsType(f.get('message_type')!),
        desiredReplyType: msgType(f.get('desired_reply_type')!),
      };
    }
    case 'WebSocketExtPushData': {
      const f = structFields(needVal(val, tag), tag, ['id', 'kinode_message_type', 'blob']);
      return {
        tag,
        id: asUint(f.get('id')!, 'id', 64),
        kinodeMessageType: msgType(f.get('kinode_message_type')!),
        blob: asBytes(f.get('blob')!, 'blob'),
      };
    }
    case 'WebSocketClose':
      return { tag, channelId: asU32(needVal(val, tag), 'WebSocketClose') };
    default:
      throw new WireError(`HttpServerAction: unknown variant \`${tag}\``);
  }
}

/** Body of a request to the module. Throws WireError where serde_json would fail. */
export function parseHttpServerAction(body: Uint8Array, gen: Generation): HttpServerAction {
  // one per WebSocket frame a process pushes: its compact form is read in place
  const push = fastWsPush(body);
  if (push) return { tag: 'WebSocketPush', channelId: push.channelId, messageType: push.messageType };
  return actionFromValue(parseJson(body), gen);
}

// ------------------------------------------------------------------ replies to actions

/** What went wrong with an action, independent of generation. */
export type ServerErrorKind =
  | 'malformed'
  | 'no-blob'
  | 'invalid-source'
  | 'ping-pong-too-long'
  | 'channel-not-found'
  | 'channel-not-owned'
  | 'channel-closed'
  | 'open-not-valid'
  | 'ext-push-data-not-valid'
  /** kinode-host only: the per-process binding limit is reached (docs/limits-http.md) */
  | 'too-many-bindings'
  /** kinode-host only: the client stopped reading; the socket is being closed with 1013 */
  | 'channel-overflow';

export interface ServerError {
  kind: ServerErrorKind;
  /** for `malformed`: the request body (v0 echoes it lossily as UTF-8) */
  body?: Uint8Array;
  /** for `too-many-bindings`: the limit in force */
  limit?: number;
}

const enc = new TextEncoder();
const lossy = new TextDecoder('utf-8', { fatal: false });

const wsPushError = (text: string): string => `{"WebSocketPushError":{"error":${q(text)}}}`;

function v0Error(e: ServerError): string {
  switch (e.kind) {
    case 'malformed':
      return `{"BadRequest":{"req":${q(lossy.decode(e.body ?? new Uint8Array()))}}}`;
    case 'no-blob':
      return '"NoBlob"';
    case 'invalid-source': // never checked in v0; the closest variant of its enum
      return `{"PathBindError":{"error":"invalid source process"}}`;
    case 'ping-pong-too-long':
      return wsPushError('Ping and Pong messages must be 125 bytes or less');
    case 'channel-not-found':
      return wsPushError('WebSocket channel not found');
    case 'channel-not-owned':
      return wsPushError('WebSocket channel not owned by this process');
    case 'channel-closed':
      return wsPushError('WebSocket channel closed');
    case 'open-not-valid':
      return wsPushError('WebSocketOpen is not a valid request');
    case 'ext-push-data-not-valid':
      return wsPushError('Use WebSocketExtPushOutgoing, not WebSocketExtPushData');
    // the runtime has neither limit; these are the v0 enum's closest variants (it has texts)
    case 'too-many-bindings':
      return `{"PathBindError":{"error":${q(`too many bindings: ${e.limit ?? '?'} per process`)}}}`;
    case 'channel-overflow':
      return wsPushError('WebSocket channel closed: the client is not reading');
  }
}

function v1Error(e: ServerError): string {
  switch (e.kind) {
    case 'malformed':
    case 'open-not-valid':
    case 'ext-push-data-not-valid':
      return '"MalformedRequest"';
    case 'no-blob':
      return '"NoBlob"';
    case 'invalid-source':
    // v1's enum has no text: a refusal tied to the source process is the closest meaning
    case 'too-many-bindings':
      return '"InvalidSourceProcess"';
    case 'ping-pong-too-long':
      return '"WsPingPongTooLong"';
    case 'channel-not-found':
    case 'channel-not-owned':
    case 'channel-closed':
    case 'channel-overflow':
      return '"WsChannelNotFound"';
  }
}

/** `Ok(())` */
export function actionOkBody(): Uint8Array {
  return enc.encode('{"Ok":null}');
}

/** `Err(HttpServerError::…)` in the enum of generation `gen`. */
export function actionErrorBody(e: ServerError, gen: Generation): Uint8Array {
  return enc.encode(`{"Err":${gen === 0 ? v0Error(e) : v1Error(e)}}`);
}

// ------------------------------------------------------------------ requests to processes

export interface IncomingHttpRequest {
  sourceSocketAddr: string | undefined;
  method: string;
  url: string;
  boundPath: string;
  headers: Iterable<[string, string]>;
  urlParams: Iterable<[string, string]>;
  queryParams: Iterable<[string, string]>;
}

/**
 * UTF-8 bytes of a body built once per HTTP request or WebSocket frame: Buffer.from uses Node's
 * pooled allocator (~0.2 µs for a 250-byte body, TextEncoder ~0.75 µs). The message codec copies
 * bodies, so a view on the pool is safe.
 */
const utf8Bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/**
 * `q` (JSON.stringify) for the strings of an IncomingHttpRequest: a text with nothing to escape
 * (no control character, quote, backslash or surrogate: nearly every path, header and address)
 * is quoted as is, which costs a scan instead of a builtin call per string.
 */
function qs(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return q(s);
  }
  return `"${s}"`;
}

function mapJsonQuick(entries: Iterable<[string, string]>): string {
  let out = '';
  for (const [k, v] of entries) out += `${out === '' ? '' : ','}${qs(k)}:${qs(v)}`;
  return `{${out}}`;
}

/** `HttpServerRequest::Http(IncomingHttpRequest)` */
export function httpRequestBody(r: IncomingHttpRequest): Uint8Array {
  const addr = r.sourceSocketAddr === undefined ? 'null' : qs(r.sourceSocketAddr);
  return utf8Bytes(
    `{"Http":{"source_socket_addr":${addr},"method":${qs(r.method)},"url":${qs(r.url)},` +
      `"bound_path":${qs(r.boundPath)},"headers":${mapJsonQuick(r.headers)},"url_params":${mapJsonQuick(r.urlParams)},` +
      `"query_params":${mapJsonQuick(r.queryParams)}}}`,
  );
}

/** `HttpServerRequest::WebSocketOpen { path, channel_id }` */
export function wsOpenBody(path: string, channelId: number): Uint8Array {
  return enc.encode(`{"WebSocketOpen":{"path":${q(path)},"channel_id":${channelId}}}`);
}

/** `HttpServerRequest::WebSocketPush { channel_id, message_type }` */
export function wsPushBody(channelId: number, messageType: WsMessageType): Uint8Array {
  return utf8Bytes(`{"WebSocketPush":{"channel_id":${channelId},"message_type":${q(messageType)}}}`);
}

/** `HttpServerRequest::WebSocketClose(channel_id)` */
export function wsCloseBody(channelId: number): Uint8Array {
  return enc.encode(`{"WebSocketClose":${channelId}}`);
}

// ------------------------------------------------------------------ the process's answer

export interface HttpResponse {
  status: number;
  headers: Array<[string, string]>;
}

/** `HttpResponse { status: u16, headers: HashMap<String, String> }`. Throws WireError. */
export function parseHttpResponse(body: Uint8Array): HttpResponse {
  const fast = fastHttpResponse(body); // one per HTTP request: process_lib's compact form, read in place
  if (fast) return fast;
  const f = structFields(parseJson(body), 'HttpResponse', ['status', 'headers']);
  return { status: Number(asUint(f.get('status')!, 'status', 16)), headers: asStringMap(f.get('headers')!, 'headers') };
}

// ------------------------------------------------------------------ login and RPC bodies

export interface LoginInfo {
  /** our login page sends the plain password here */
  password: string | undefined;
  /** the runtime's field; accepted and compared like `password` (see docs/http-server.md) */
  passwordHash: string | undefined;
  subdomain: string | undefined;
}

/** `POST /login` body. Throws WireError (-> 400). */
export function parseLoginInfo(body: Uint8Array): LoginInfo {
  const f = structFields(parseJson(body), 'LoginInfo', ['password_hash', 'password', 'subdomain'], ['password_hash', 'password', 'subdomain']);
  const info = {
    passwordHash: asOptString(f.get('password_hash')!, 'password_hash'),
    password: asOptString(f.get('password')!, 'password'),
    subdomain: asOptString(f.get('subdomain')!, 'subdomain'),
  };
  if (info.password === undefined && info.passwordHash === undefined) throw new WireError('LoginInfo: missing field `password`');
  return info;
}

export interface RpcMessage {
  node: string | undefined;
  process: string;
  inherit: boolean | undefined;
  expectsResponse: bigint | undefined;
  body: string | undefined;
  metadata: string | undefined;
  context: string | undefined;
  mime: string | undefined;
  data: string | undefined;
}

const RPC_FIELDS = ['node', 'process', 'inherit', 'expects_response', 'body', 'metadata', 'context', 'mime', 'data'] as const;

/** kit's `POST /rpc:distro:sys/message` body. Throws WireError (-> 400). */
export function parseRpcMessage(body: Uint8Array): RpcMessage {
  const f = structFields(parseJson(body), 'RpcMessage', RPC_FIELDS, RPC_FIELDS.filter((x) => x !== 'process'));
  return {
    node: asOptString(f.get('node')!, 'node'),
    process: asString(f.get('process')!, 'process'),
    inherit: asOptBool(f.get('inherit')!, 'inherit'),
    expectsResponse: asOptU64(f.get('expects_response')!, 'expects_response'),
    body: asOptString(f.get('body')!, 'body'),
    metadata: asOptString(f.get('metadata')!, 'metadata'),
    context: asOptString(f.get('context')!, 'context'),
    mime: asOptString(f.get('mime')!, 'mime'),
    data: asOptString(f.get('data')!, 'data'),
  };
}

const bytesJson = (b: Uint8Array): string => `[${Array.from(b).join(',')}]`;

/** `RpcResponseBody { body: Vec<u8>, lazy_load_blob: Option<LazyLoadBlob { mime, bytes }> }` */
export function rpcResponseBody(body: Uint8Array, blob: { mime: string | undefined; bytes: Uint8Array } | undefined): Uint8Array {
  const b = blob === undefined ? 'null' : `{"mime":${blob.mime === undefined ? 'null' : q(blob.mime)},"bytes":${bytesJson(blob.bytes)}}`;
  return enc.encode(`{"body":${bytesJson(body)},"lazy_load_blob":${b}}`);
}

// ------------------------------------------------------------------ readers (tests, tools)

export type ServerRequest =
  | { tag: 'Http'; req: { sourceSocketAddr: string | undefined; method: string; url: string; boundPath: string; headers: Record<string, string>; urlParams: Record<string, string>; queryParams: Record<string, string> } }
  | { tag: 'WebSocketOpen'; path: string; channelId: number }
  | { tag: 'WebSocketPush'; channelId: number; messageType: WsMessageType }
  | { tag: 'WebSocketClose'; channelId: number };

/** `HttpServerRequest` as a process receives it (what process_lib's `from_bytes` accepts). */
export function parseServerRequest(body: Uint8Array): ServerRequest {
  const { tag, val } = enumTag(parseJson(body), 'HttpServerRequest');
  switch (tag) {
    case 'Http': {
      const f = structFields(needVal(val, tag), 'IncomingHttpRequest', [
        'source_socket_addr', 'method', 'url', 'bound_path', 'headers', 'url_params', 'query_params',
      ], ['source_socket_addr']);
      const obj = (v: Json, what: string) => Object.fromEntries(asStringMap(v, what));
      return {
        tag,
        req: {
          sourceSocketAddr: asOptString(f.get('source_socket_addr')!, 'source_socket_addr'),
          method: asString(f.get('method')!, 'method'),
          url: asString(f.get('url')!, 'url'),
          boundPath: asString(f.get('bound_path')!, 'bound_path'),
          headers: obj(f.get('headers')!, 'headers'),
          urlParams: obj(f.get('url_params')!, 'url_params'),
          queryParams: obj(f.get('query_params')!, 'query_params'),
        },
      };
    }
    case 'WebSocketOpen': {
      const f = structFields(needVal(val, tag), tag, ['path', 'channel_id']);
      return { tag, path: asString(f.get('path')!, 'path'), channelId: asU32(f.get('channel_id')!, 'channel_id') };
    }
    case 'WebSocketPush': {
      const f = structFields(needVal(val, tag), tag, ['channel_id', 'message_type']);
      return { tag, channelId: asU32(f.get('channel_id')!, 'channel_id'), messageType: wsType(f.get('message_type')!) };
    }
    case 'WebSocketClose':
      return { tag, channelId: asU32(needVal(val, tag), 'WebSocketClose') };
    default:
      throw new WireError(`HttpServerRequest: unknown variant \`${tag}\``);
  }
}
