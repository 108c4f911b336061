// Wire shapes of `http-client:distro:sys` (v0 `http_client:distro:sys`), as serde_json reads and
// writes them in the Kinode runtime: externally tagged enums, struct fields in Rust declaration
// order, newtype variants bare, unit variants as plain strings.
//
// Parsing follows serde's derive rules rather than JSON.parse: unknown fields are ignored, missing
// `Option` fields are `None`, other missing fields, duplicate struct fields, wrong JSON types,
// non-integer or out-of-range numbers and invalid UTF-8 are errors; structs may also come as
// JSON arrays (serde's sequence form). A body that fails is answered with the generation's
// "malformed request" error.

import {
  asOptString,
  asString,
  asStringMap,
  asU32,
  enumTag,
  mapJson,
  needVal,
  parseJson,
  q,
  structFields,
  unitOnly,
  WireError,
  type Json,
} from './serde-json.js';

export { parseJson, WireError, type Json };

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
  | { kind: 'ws-close-failed'; channelId: number }
  /** kinode-host only (the runtime has no limit): v1 ExecuteRequestFailed(text); v0 RequestFailed(text) */
  | { kind: 'response-too-large'; url: string; limit: number }
  /** kinode-host only (the runtime queues without limit): v1 ExecuteRequestFailed(text); v0 WsPushFailed(text) */
  | { kind: 'ws-push-overflow'; channelId: number; queued: number; limit: number };

const tooLargeText = (e: { url: string; limit: number }): string =>
  `response body for url (${e.url}) is larger than the ${e.limit} bytes allowed (--max-response)`;

const overflowText = (e: { channelId: number; queued: number; limit: number }): string =>
  `websocket channel ${e.channelId}: the server is not reading (${e.queued} bytes queued, --ws-send-buffer ${e.limit}); the channel is closed`;

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
    case 'response-too-large':
      return `{"RequestFailed":{"error":${q(tooLargeText(e))}}}`;
    case 'ws-push-overflow':
      return `{"WsPushFailed":{"req":${q(overflowText(e))}}}`;
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
    case 'response-too-large':
      return `{"ExecuteRequestFailed":${q(tooLargeText(e))}}`;
    case 'ws-push-overflow':
      return `{"ExecuteRequestFailed":${q(overflowText(e))}}`;
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
