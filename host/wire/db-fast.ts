// The fast path of the kv and sqlite request envelope: `{"package_id":{"package_name":"…",
// "publisher_node":"…"},"db":"…","action":…}` as process_lib's serde_json writes it. A process
// names the same db on every request, so the envelope's bytes up to the action repeat: they are
// remembered (per module, a few at a time) with the DbKey read from them, and a body that starts
// with remembered bytes gets that same DbKey object back without reading it again. The same
// object on every request is what the modules key their per-db memos on (dbKeyString, the cap
// params: db/paths.ts, db/caps.ts). Anything else (another spelling, escapes, whitespace)
// returns undefined and is parsed by the strict reader (db-request.ts).

import type { DbKey } from './db-request.js';
import { ascii, lit, optionU64, plainString, plainText } from './fast-scan.js';

const HEAD = ascii('{"package_id":{"package_name":');
const PUBLISHER = ascii(',"publisher_node":');
const DB = ascii('},"db":');
const ACTION = ascii(',"action":');

interface Known {
  /** the body's bytes up to and including `"action":` */
  prefix: Uint8Array;
  key: DbKey;
}

/** Envelopes remembered per module, most recent first. */
const KEEP = 8;

export class DbEnvelopes {
  private readonly known: Known[] = [];

  /** The db key and where the action starts, or undefined (parse the body the slow way). */
  read(b: Uint8Array): { key: DbKey; action: number } | undefined {
    const known = this.known;
    for (let i = 0; i < known.length; i++) {
      const k = known[i]!;
      if (lit(b, 0, k.prefix) < 0) continue;
      if (i > 0) {
        known.splice(i, 1);
        known.unshift(k);
      }
      return { key: k.key, action: k.prefix.length };
    }
    let p = lit(b, 0, HEAD);
    const pkgEnd = plainString(b, p);
    p = lit(b, pkgEnd, PUBLISHER);
    const pubEnd = plainString(b, p);
    const pubStart = p;
    p = lit(b, pubEnd, DB);
    const dbStart = p;
    const dbEnd = plainString(b, p);
    p = lit(b, dbEnd, ACTION);
    if (p < 0) return undefined;
    const pkg = { packageName: plainText(b, HEAD.length, pkgEnd), publisherNode: plainText(b, pubStart, pubEnd) };
    const db = plainText(b, dbStart, dbEnd);
    const key: DbKey = { pkg, db, text: `${pkg.packageName}\0${pkg.publisherNode}\0${db}` };
    known.unshift({ prefix: b.slice(0, p), key });
    if (known.length > KEEP) known.pop();
    return { key, action: p };
  }
}

/** The closing brace of the envelope at `pos`, ending the body; true if so. */
export const envelopeEnds = (b: Uint8Array, pos: number): boolean => pos >= 0 && pos === b.length - 1 && b[pos] === 0x7d;

const TX_ID = ascii(',"tx_id":');

/**
 * The end of an action struct that closes with an optional `,"tx_id":…` (serde may leave it out):
 * `…}}` at `pos`, then the envelope's close. Its tx id, or undefined when the body is not spelled so.
 */
export function txIdThenEnd(b: Uint8Array, pos: number): { txId: bigint | undefined } | undefined {
  let p = pos;
  let txId: bigint | undefined;
  const t = lit(b, p, TX_ID);
  if (t >= 0) {
    const v = optionU64(b, t);
    if (!v) return undefined;
    txId = v.value;
    p = v.end;
  }
  return b[p] === 0x7d && b[p + 1] === 0x7d && envelopeEnds(b, p + 2) ? { txId } : undefined;
}
