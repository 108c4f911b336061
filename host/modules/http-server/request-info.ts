// What the runtime reads off an incoming HTTP request, from Node's IncomingMessage: the raw path
// and query, the Host authority, the peer address, the headers map and the query map.

import type { IncomingMessage } from 'node:http';

/** Raw (still percent-encoded) path and query text of the request target. */
export function splitTarget(url: string | undefined): { path: string; query: string } {
  let target = url ?? '/';
  if (!target.startsWith('/')) {
    // absolute-form ("GET http://host/path"): the path is what counts
    try {
      const u = new URL(target);
      target = `${u.pathname}${u.search}`;
    } catch {
      target = '/';
    }
  }
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** The Host header as an authority (`host[:port]`), `localhost` when there is none. */
export function authorityOf(headers: Map<string, string>): string {
  const h = headers.get('host');
  return h === undefined || h === '' ? 'localhost' : h;
}

/** The host part of an authority: the port dropped, IPv6 brackets kept. */
export function hostnameOf(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  return authority.replace(/:[0-9]*$/, '');
}

/** Peer address without the IPv4-mapped prefix. */
function peerIp(req: IncomingMessage): string | undefined {
  const a = req.socket.remoteAddress;
  if (a === undefined) return undefined;
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** the peer text, kept on the socket: every request of a keep-alive connection asks for it */
const PEER = Symbol('kinode-peer-socket-addr');
type WithPeer = { [PEER]?: string | null };

/** Rust's `SocketAddr` display of the peer: `1.2.3.4:5` or `[::1]:5`; undefined if unknown. */
export function peerSocketAddr(req: IncomingMessage): string | undefined {
  const socket = req.socket as typeof req.socket & WithPeer;
  const known = socket[PEER];
  if (known !== undefined) return known ?? undefined;
  const ip = peerIp(req);
  const port = req.socket.remotePort;
  const text = ip === undefined || port === undefined ? undefined : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  // unknown is not kept: an address may still become known (it never changes once it is)
  if (text !== undefined) socket[PEER] = text;
  return text;
}

export function isLoopbackPeer(req: IncomingMessage): boolean {
  const ip = peerIp(req);
  return ip !== undefined && (ip === '::1' || /^127\./.test(ip));
}

/**
 * More than one Host header: RFC 9112 §3.2 says the server must answer 400 (which of the two
 * names the authority is ambiguous, so secure-subdomain and login checks could disagree with a
 * proxy in front). Node's parser accepts the request and keeps the first.
 */
export function hasDuplicateHost(rawHeaders: string[]): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}

/** Visible ASCII (and tab) only, like `HeaderValue::to_str`. */
const VISIBLE = /^[\t\x20-\x7e]*$/;

/**
 * `serialize_headers`: lowercase names; a value that is not visible ASCII becomes ""; repeated
 * headers collapse to the last value. Node gives raw header bytes as latin1 text.
 */
export function serializeHeaders(rawHeaders: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    out.delete(name); // keep the order of last occurrence
    out.set(name, VISIBLE.test(value) ? value : '');
  }
  return out;
}

/** `application/x-www-form-urlencoded` decoding of the query, last duplicate winning. */
export function queryParams(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query === '') return out;
  for (const [k, v] of new URLSearchParams(query)) out.set(k, v);
  return out;
}
