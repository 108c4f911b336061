// The bind tables of http-server: the same matching rules as the Kinode runtime's router
// (route-recognizer 0.3.1), written from its documented behaviour:
//
// * a pattern and a path lose one leading `/`; a pattern is cut into segments at every `/` and
//   `.`; a segment starting with `:` matches one or more characters other than `/` (captured
//   under its name), one starting with `*` matches one or more of any character (captured), any
//   other segment matches itself literally; matching is on the raw (percent-encoded) path.
// * of all patterns that match, the one with the most literal segments wins, then the one with
//   the most `:` segments, then the most `*` segments; remaining ties go to the earlier pattern.
// * patterns that differ only in their parameter names are the same route: adding one replaces
//   the other (value and names). Unbinding stores a tombstone (a value without an owner), which
//   still matches and so answers 404 instead of falling back.

import type { LazyLoadBlob, ProcessId } from '../../types.js';
import { pidStr } from '../../kernel/address.js';

interface Entry<T> {
  pattern: string;
  regex: RegExp;
  paramNames: string[];
  statics: number;
  dynamics: number;
  wildcards: number;
  order: number;
  value: T;
  /** who added it (a process id string), for the per-process count */
  owner: string | undefined;
}

/** A node of the prefix tree: one per run of leading literal `/`-components. */
interface PrefixNode<T> {
  children: Map<string, PrefixNode<T>>;
  /** routes whose literal `/`-components end here (the next one has a `:` or `*` segment) */
  entries: Array<Entry<T>>;
}

export interface RouteMatch<T> {
  value: T;
  /** the pattern as it was added */
  pattern: string;
  /** captures by name, sorted by name; later duplicates win */
  params: Array<[string, string]>;
}

/** Segments of a route: `[separator or undefined, text]` (route-recognizer's split on `/` and `.`). */
function segments(route: string): Array<[string | undefined, string]> {
  const out: Array<[string | undefined, string]> = [];
  let start = 0;
  while (start < route.length) {
    let end = route.length;
    for (let i = start + 1; i < route.length; i++) {
      if (route[i] === '/' || route[i] === '.') {
        end = i;
        break;
      }
    }
    const c = route[start]!;
    out.push(c === '/' || c === '.' ? [c, route.slice(start + 1, end)] : [undefined, route.slice(start, end)]);
    start = end;
  }
  return out;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const stripLeadingSlash = (s: string): string => (s.startsWith('/') ? s.slice(1) : s);
/** A `/`-component is literal when none of its `.`-segments starts with `:` or `*`. */
const isLiteralComponent = (c: string): boolean => c.split('.').every((s) => !s.startsWith(':') && !s.startsWith('*'));

interface Compiled {
  shape: string;
  re: string;
  paramNames: string[];
  statics: number;
  dynamics: number;
  wildcards: number;
  /** the leading literal `/`-components; all of them when the route is literal throughout */
  literalPrefix: string[];
  literal: boolean;
}

function compile(pattern: string): Compiled {
  const route = stripLeadingSlash(pattern);
  let re = '^';
  let shape = '';
  const paramNames: string[] = [];
  let statics = 0;
  let dynamics = 0;
  let wildcards = 0;
  for (const [sep, seg] of segments(route)) {
    if (sep !== undefined) {
      re += escapeRe(sep);
      shape += sep;
    }
    if (seg.startsWith(':')) {
      re += '([^/]+)';
      shape += '\u0000:';
      paramNames.push(seg.slice(1));
      dynamics++;
    } else if (seg.startsWith('*')) {
      re += '(.+)';
      shape += '\u0000*';
      paramNames.push(seg.slice(1));
      wildcards++;
    } else {
      re += escapeRe(seg);
      shape += seg.replace(/\u0000/g, '\u0000\u0000');
      statics++;
    }
  }
  re += '$';
  const components = route.split('/');
  const firstDynamic = components.findIndex((c) => !isLiteralComponent(c));
  const literal = firstDynamic < 0;
  return { shape, re, paramNames, statics, dynamics, wildcards, literal, literalPrefix: literal ? components : components.slice(0, firstDynamic) };
}

/**
 * Lookup cost does not grow with the number of routes: a route literal throughout can only match
 * a path equal to it (one map lookup), and any other route can only match paths that start with
 * its leading literal `/`-components (a regex ends each one with `/`), so it is kept in a prefix
 * tree under them and only the routes along the path's own components are tried. Every process's
 * routes start with its literal `/<process id>`, so one process's many routes are never tried
 * for another's paths.
 */
export class RouteTable<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly exact = new Map<string, Entry<T>>();
  private readonly root: PrefixNode<T> = { children: new Map(), entries: [] };
  private readonly owned = new Map<string, number>();
  private counter = 0;

  /** Add (or replace) a route; `owner` (a process id string) is counted by `countOf`. */
  add(pattern: string, value: T, owner?: string): void {
    const c = compile(pattern);
    const prev = this.entries.get(c.shape);
    if (prev) {
      // same shape: same place in the tree and the exact map, same order
      this.count(prev.owner, -1);
      Object.assign(prev, { pattern, regex: new RegExp(c.re, 's'), paramNames: c.paramNames, value, owner });
      this.count(owner, 1);
      return;
    }
    const e: Entry<T> = {
      pattern,
      regex: new RegExp(c.re, 's'),
      paramNames: c.paramNames,
      statics: c.statics,
      dynamics: c.dynamics,
      wildcards: c.wildcards,
      order: this.counter++,
      value,
      owner,
    };
    this.entries.set(c.shape, e);
    this.count(owner, 1);
    if (c.literal) {
      this.exact.set(c.literalPrefix.join('/'), e);
      return;
    }
    let node = this.root;
    for (const comp of c.literalPrefix) {
      let next = node.children.get(comp);
      if (!next) {
        next = { children: new Map(), entries: [] };
        node.children.set(comp, next);
      }
      node = next;
    }
    node.entries.push(e);
  }

  /** Whether adding `pattern` would replace a route rather than add one. */
  has(pattern: string): boolean {
    return this.entries.has(compile(pattern).shape);
  }

  /** Routes added by `owner`. */
  countOf(owner: string): number {
    return this.owned.get(owner) ?? 0;
  }

  private count(owner: string | undefined, d: number): void {
    if (owner === undefined) return;
    const n = (this.owned.get(owner) ?? 0) + d;
    if (n === 0) this.owned.delete(owner);
    else this.owned.set(owner, n);
  }

  /** The best route for `path` (a leading `/` is ignored), or undefined. */
  recognize(path: string): RouteMatch<T> | undefined {
    const p = stripLeadingSlash(path);
    let best: { e: Entry<T>; m: RegExpExecArray } | undefined;
    const consider = (e: Entry<T>): void => {
      const m = e.regex.exec(p);
      if (m && (!best || better(e, best.e))) best = { e, m };
    };
    const exact = this.exact.get(p);
    if (exact) consider(exact);
    let node: PrefixNode<T> | undefined = this.root;
    for (const e of node.entries) consider(e);
    let from = 0;
    while (node && from <= p.length) {
      const slash = p.indexOf('/', from);
      const end = slash < 0 ? p.length : slash;
      node = node.children.get(p.slice(from, end));
      if (node) for (const e of node.entries) consider(e);
      if (slash < 0) break;
      from = slash + 1;
    }
    if (!best) return undefined;
    const found: { e: Entry<T>; m: RegExpExecArray } = best;
    if (found.e.paramNames.length === 0) return { value: found.e.value, pattern: found.e.pattern, params: [] };
    const params = new Map<string, string>();
    found.e.paramNames.forEach((name, i) => {
      if (name !== '') params.set(name, found.m[i + 1]!);
    });
    return {
      value: found.e.value,
      pattern: found.e.pattern,
      params: [...params.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every route as added (tombstones included), oldest first. */
  list(): Array<{ pattern: string; value: T }> {
    return [...this.entries.values()].sort((a, b) => a.order - b.order).map((e) => ({ pattern: e.pattern, value: e.value }));
  }
}

function better<T>(a: Entry<T>, b: Entry<T>): boolean {
  if (a.statics !== b.statics) return a.statics > b.statics;
  if (a.dynamics !== b.dynamics) return a.dynamics > b.dynamics;
  if (a.wildcards !== b.wildcards) return a.wildcards > b.wildcards;
  return a.order < b.order;
}

// ------------------------------------------------------------------ the two tables

export interface HttpBinding {
  /** undefined: unbound (tombstone) */
  app: ProcessId | undefined;
  /** the stored pattern, e.g. `/<pid>/item/:id` (IncomingHttpRequest.bound_path) */
  path: string;
  secureSubdomain: string | undefined;
  authenticated: boolean;
  localOnly: boolean;
  staticContent: LazyLoadBlob | undefined;
  /** kit's RPC endpoint, handled by the server itself */
  rpc?: boolean;
}

export interface WsBinding {
  app: ProcessId | undefined;
  secureSubdomain: string | undefined;
  authenticated: boolean;
  extension: boolean;
}

export const RPC_PATH = '/rpc:distro:sys/message';

/** One trailing `/` removed. */
export function normalizePath(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Where a process's binding of `path` is stored: under `/<process id>` (homepage excepted). */
export function formatPathWithProcess(pid: ProcessId, path: string): string {
  const p = pidStr(pid);
  if (p === 'homepage:homepage:sys') return normalizePath(path);
  return path.startsWith('/') ? `/${p}${normalizePath(path)}` : `/${p}/${normalizePath(path)}`;
}

/** `<package>-<publisher>` with every character that is not ASCII alphanumeric replaced by `-`. */
export function secureSubdomain(pid: ProcessId): string {
  return `${pid.packageName}-${pid.publisherNode}`.replace(/[^A-Za-z0-9]/g, '-');
}

export class Bindings {
  readonly http = new RouteTable<HttpBinding>();
  readonly ws = new RouteTable<WsBinding>();

  constructor() {
    this.http.add(RPC_PATH, {
      app: { processName: 'rpc', packageName: 'distro', publisherNode: 'sys' },
      path: RPC_PATH,
      secureSubdomain: undefined,
      authenticated: false,
      localOnly: true,
      staticContent: undefined,
      rpc: true,
    });
  }

  /**
   * HTTP lookup for a normalized path: the exact route, else the route of the first segment
   * alone (the process's `/` binding), else undefined. A tombstone is returned as found.
   */
  lookupHttp(path: string): RouteMatch<HttpBinding> | undefined {
    const exact = this.http.recognize(path);
    if (exact) return exact;
    const base = path.split('/')[1] ?? '';
    return this.http.recognize(base);
  }

  /** WebSocket lookup: exact only. */
  lookupWs(path: string): RouteMatch<WsBinding> | undefined {
    return this.ws.recognize(path);
  }
}
