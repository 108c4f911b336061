// The pipeline's answers: a process's response headers made safe for writeHead, and the short
// status replies (400, 413, text / HTML / JSON bodies) it sends itself.

import { validateHeaderName, validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';

const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/; // what Node's validateHeaderName accepts
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/; // what validateHeaderValue refuses
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A process's response headers as writeHead's flat list: names lowercased, `application/
 * octet-stream` unless the process names a content type, the body's length left to Node
 * (content-length and transfer-encoding dropped), a repeated name (in another case) keeping
 * the first one's place and the last value, values sent as their UTF-8 bytes, invalid names
 * or values skipped as the runtime does — what setHeader one by one did.
 */
export function responseHeaders(headers: Array<[string, string]>): string[] {
  const out = ['content-type', 'application/octet-stream'];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding') continue;
    const v = NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
    if (!TOKEN.test(lower) || BAD_VALUE_CHAR.test(v)) continue;
    let i = 0;
    while (i < out.length && out[i] !== lower) i += 2;
    if (i < out.length) out[i + 1] = v;
    else out.push(lower, v);
  }
  return out;
}

/** Node sends no body (and states no length) for HEAD, 1xx, 204 and 304. */
export const mayHaveBody = (method: string | undefined, status: number): boolean =>
  method !== 'HEAD' && status !== 204 && status !== 304 && (status < 100 || status > 199);

export function setHeaderSafe(res: ServerResponse, name: string, value: string): void {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    res.setHeader(name, value);
  } catch {
    // an invalid name or value is skipped, as the runtime does
  }
}

export function reply(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  res.end();
}

export function replyText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(text);
}

export function replyHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(html);
}

export function replyJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

/** 400 with a reason, then the connection is closed (what follows on it is not trusted). */
export function badRequest(req: IncomingMessage, res: ServerResponse, why: string): void {
  res.setHeader('connection', 'close');
  replyText(res, 400, why);
  req.resume();
}

/** 413, then the connection is closed (the rest of the body is not read). */
export function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  res.statusCode = 413;
  res.setHeader('connection', 'close');
  res.end();
  req.resume();
}
