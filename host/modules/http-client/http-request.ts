// One outgoing HTTP request, done the way the Kinode runtime's reqwest 0.12 client does it:
// validation order and error texts, the default redirect policy (followed here by hand),
// `Accept: */*` as the only default header, no client-side timeout, no decompression, the whole
// body buffered (a body read error gives an empty body) up to `maxResponseBytes` (the runtime
// has no limit: a bigger body is an error here, see docs/limits-http.md), response header names Pascal-Cased,
// values that are not visible ASCII as "", the last of repeated headers winning.
//
// Transport: undici's `request()` (the engine under Node's own fetch), because fetch would
// decompress bodies, rewrite headers and refuse some methods, while `request()` hands back
// raw bytes and raw headers and keeps connections alive in a pool we own.

import { Agent, type Dispatcher } from 'undici';
import type { ClientError, OutgoingHttpRequest } from '../../wire/http-client.js';

export interface HttpResult {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

export type HttpOutcome =
  | { kind: 'response'; response: HttpResult }
  | { kind: 'error'; error: ClientError; /** a validation error (before any network use) */ early: boolean }
  /** stopped by our own signal (timeout, shutdown): nothing is to be sent */
  | { kind: 'aborted' };

/** `--max-response` default: the HTTP server's default body limit, the same size both ways */
export const DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024;

export interface HttpRequestOptions {
  dispatcher: Dispatcher;
  signal: AbortSignal;
  /** a response body past this many bytes is not read: the request fails with `response-too-large` */
  maxResponseBytes?: number;
  /** called once the request is valid and about to be sent (the runtime's verbosity-2 print) */
  onSend?: (method: string, url: string) => void;
}

/** A pooled dispatcher without undici's own timeouts (the caller's timeout is the only one). */
export function createHttpAgent(): Agent {
  return new Agent({
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: 0,
    // hyper's default read buffer limit; undici's default (16 KiB) would reject large headers
    maxHeaderSize: 8192 + 4096 * 100,
  });
}

const MAX_REDIRECTS = 10;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `http::Method::from_bytes`: any non-empty token, case kept. */
export function isValidMethod(m: string): boolean {
  return TOKEN.test(m);
}

/** `HeaderValue::from_str`: no control characters except tab, no DEL (UTF-8 text allowed). */
function isValidHeaderValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** `HeaderValue::to_str`: visible ASCII (and tab) only. */
function isVisibleAscii(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 0x20 && c < 0x7f) || c === 0x09)) return false;
  }
  return true;
}

/** `content-type` -> `Content-Type`, word by word on `-`. */
export function pascalCase(name: string): string {
  return name
    .split('-')
    .map((w) => (w.length === 0 ? '' : w[0]!.toUpperCase() + w.slice(1)))
    .join('-');
}

/**
 * Request headers as the runtime builds its HeaderMap: invalid names or values skipped, names
 * lower-cased, a later duplicate replacing an earlier one. Headers undici manages itself or
 * refuses (framing and connection management) are left out, which the runtime's hyper would
 * also mostly override.
 */
export function requestHeaders(given: Array<[string, string]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of given) {
    if (!TOKEN.test(k) || !isValidHeaderValue(v)) continue;
    const name = k.toLowerCase();
    if (UNDICI_MANAGED.has(name)) continue;
    if (name === 'connection' && !/^(close|keep-alive)$/i.test(v)) continue;
    out.set(name, v);
  }
  return out;
}
const UNDICI_MANAGED = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** Response headers as the runtime reports them. */
export function responseHeaders(raw: string[]): Array<[string, string]> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = pascalCase(raw[i]!.toLowerCase());
    const value = raw[i + 1]!;
    m.set(name, isVisibleAscii(value) ? value : '');
  }
  return [...m.entries()];
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21' };
const portOrDefault = (u: URL): string => u.port || DEFAULT_PORTS[u.protocol] || '';

function parseUrl(s: string, base?: URL): URL | undefined {
  try {
    return base ? new URL(s, base) : new URL(s);
  } catch {
    return undefined;
  }
}

/** The url crate's `has_host()` (a URL like `mailto:x` or `data:,x` has none). */
function hasHost(u: URL): boolean {
  return u.host !== '' || (u.protocol !== 'file:' && u.href.startsWith(`${u.protocol}//`));
}

const sendingError = (u: URL): ClientError => ({ kind: 'execute-failed', text: `error sending request for url (${u.href})` });
const badScheme = (u: URL): ClientError => ({ kind: 'execute-failed', text: `builder error for url (${u.href})` });

/** Execute `req` with body `body` (the blob; undefined = no body). Never throws. */
export async function executeHttpRequest(
  req: OutgoingHttpRequest,
  body: Uint8Array | undefined,
  opts: HttpRequestOptions,
): Promise<HttpOutcome> {
  // validation, in the runtime's order
  if (!isValidMethod(req.method)) return { kind: 'error', error: { kind: 'bad-method', method: req.method }, early: true };
  const parsed = parseUrl(req.url);
  if (!parsed) return { kind: 'error', error: { kind: 'bad-url', url: req.url }, early: true };
  let url: URL = parsed;
  opts.onSend?.(req.method, url.href);
  const version = req.version;
  if (version !== undefined && !['HTTP/0.9', 'HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/3.0'].includes(version)) {
    return { kind: 'error', error: { kind: 'bad-version', version }, early: true };
  }
  if (!hasHost(url)) {
    return { kind: 'error', error: { kind: 'build-failed', text: `builder error for url (${url.href})` }, early: true };
  }
  // execution
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'error', error: badScheme(url), early: false };
  // hyper refuses HTTP/0.9 and HTTP/3.0 outright; the runtime's TLS has no ALPN, so every
  // connection is HTTP/1 and an HTTP/2.0 request fails on it. HTTP/1.0 is sent as HTTP/1.1.
  if (version === 'HTTP/0.9' || version === 'HTTP/3.0' || version === 'HTTP/2.0') {
    return { kind: 'error', error: sendingError(url), early: false };
  }

  let method = req.method;
  let reqBody = body;
  const headers = requestHeaders(req.headers);
  if (!headers.has('accept')) headers.set('accept', '*/*');
  if (url.username !== '' || url.password !== '') {
    // reqwest moves URL credentials into a basic Authorization header
    const cred = `${percentDecode(url.username)}:${percentDecode(url.password)}`;
    headers.set('authorization', `Basic ${Buffer.from(cred, 'utf8').toString('base64')}`);
    url = new URL(url.href);
    url.username = '';
    url.password = '';
  }
  const visited: URL[] = [];

  for (;;) {
    if (opts.signal.aborted) return { kind: 'aborted' };
    let res: Dispatcher.ResponseData;
    try {
      const options = {
        origin: url.origin,
        path: url.pathname + url.search,
        method: method as Dispatcher.HttpMethod,
        headers: flatHeaders(headers),
        body: reqBody === undefined ? undefined : Buffer.from(reqBody.buffer, reqBody.byteOffset, reqBody.byteLength),
        signal: opts.signal,
        // raw header list (undici's typings spell the option without the final s)
        responseHeaders: 'raw',
      } as Dispatcher.RequestOptions;
      res = await opts.dispatcher.request(options);
    } catch {
      if (opts.signal.aborted) return { kind: 'aborted' };
      return { kind: 'error', error: sendingError(url), early: false };
    }
    const raw = res.headers as unknown as string[];
    const status = res.statusCode;

    let follow = false;
    if (status === 301 || status === 302 || status === 303) {
      reqBody = undefined;
      for (const h of ['transfer-encoding', 'content-encoding', 'content-type', 'content-length']) headers.delete(h);
      if (method !== 'GET' && method !== 'HEAD') method = 'GET';
      follow = true;
    } else if (status === 307 || status === 308) {
      follow = true; // the body is bytes, so always reusable
    }
    const location = follow ? firstHeader(raw, 'location') : undefined;
    const next: URL | undefined = location !== undefined ? parseUrl(location, url) : undefined;
    if (next) {
      if (!(next.protocol === 'http:' && url.protocol === 'https:')) {
        const referer = new URL(url.href);
        referer.username = '';
        referer.password = '';
        referer.hash = '';
        headers.set('referer', referer.href);
      }
      visited.push(url);
      await discard(res.body);
      if (visited.length >= MAX_REDIRECTS) {
        return { kind: 'error', error: { kind: 'execute-failed', text: `error following redirect for url (${url.href})` }, early: false };
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return { kind: 'error', error: badScheme(next), early: false };
      const crossHost = next.hostname !== url.hostname || portOrDefault(next) !== portOrDefault(url);
      if (crossHost) for (const h of ['authorization', 'cookie', 'cookie2', 'proxy-authorization', 'www-authenticate']) headers.delete(h);
      url = next;
      continue;
    }

    const maxResponse = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
    // a HEAD answer, 204 and 304 have no body whatever their Content-Length says
    const bodyless = method === 'HEAD' || status === 204 || status === 304;
    const read = await readBody(res, bodyless ? [] : raw, maxResponse);
    if (opts.signal.aborted) return { kind: 'aborted' };
    if (read === 'too-large') {
      return { kind: 'error', error: { kind: 'response-too-large', url: url.href, limit: maxResponse }, early: false };
    }
    // a read error gives an empty body, as reqwest's `response.bytes().await.unwrap_or_default()`
    const bytes = read ?? new Uint8Array(0);
    return { kind: 'response', response: { status, headers: responseHeaders(raw), body: bytes } };
  }
}

/** Lossy percent-decoding, as the url crate's `percent_decode_str(..).decode_utf8_lossy()`. */
function percentDecode(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const h = s.slice(i + 1, i + 3);
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(h)) {
      bytes.push(parseInt(h, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function flatHeaders(h: Map<string, string>): string[] {
  const out: string[] = [];
  // undici writes header text as latin1: hand it the UTF-8 bytes one char per byte
  for (const [k, v] of h) out.push(k, Buffer.from(v, 'utf8').toString('latin1'));
  return out;
}

/** HeaderMap::get: the first value; it must be UTF-8 to be used as a Location. */
function firstHeader(raw: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) {
      const v = raw[i + 1]!;
      return v.includes('\ufffd') ? undefined : v;
    }
  }
  return undefined;
}

/**
 * The whole body, at most `limit` bytes: refused from its Content-Length before reading, or as
 * soon as it grows past the limit (the connection is dropped). With a Content-Length it is
 * copied into one buffer of that size as it comes (no chunk list plus a concatenated copy).
 * undefined on a read error.
 */
async function readBody(res: Dispatcher.ResponseData, raw: string[], limit: number): Promise<Uint8Array | 'too-large' | undefined> {
  const declaredText = firstHeader(raw, 'content-length');
  const declared = declaredText !== undefined && /^[0-9]+$/.test(declaredText) ? Number(declaredText) : undefined;
  if (declared !== undefined && declared > limit) {
    drop(res.body);
    return 'too-large';
  }
  const whole = declared !== undefined ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (size + chunk.length > limit || (whole && size + chunk.length > whole.length)) {
        drop(res.body);
        return 'too-large';
      }
      if (whole) chunk.copy(whole, size);
      else chunks.push(chunk);
      size += chunk.length;
    }
  } catch {
    return undefined;
  }
  const body = whole ? whole.subarray(0, size) : Buffer.concat(chunks, size);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** Stop reading a body and drop its connection (undici then reports an abort nobody needs). */
function drop(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 1 << 20 });
  } catch {
    // the connection is simply not reused
  }
}
