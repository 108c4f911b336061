// wire/http-fast.ts: the in-place reader of a process's HttpResponse gives what JSON.parse gives,
// including for strings it has seen before (its cache of recent strings) and for different
// strings of the same length that share a cache slot.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fastHttpResponse } from '../host/wire/http-fast.js';

const enc = new TextEncoder();

/** A deterministic pseudo-random source (the test must not depend on luck). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('http-fast', () => {
  it('reads repeated and colliding header strings as JSON.parse does', () => {
    const r = rng(12);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/;=. ';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    // a small pool, so most strings are read many times, plus a fresh one now and then
    const pool = Array.from({ length: 40 }, (_, i) => word(1 + (i % 12)));
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(r() * 4);
      const headers: Record<string, string> = {};
      for (let k = 0; k < n; k++) {
        const name = r() < 0.9 ? pool[Math.floor(r() * pool.length)]! : word(1 + Math.floor(r() * 80));
        headers[name.replace(/ /g, '-') || 'x'] = r() < 0.9 ? pool[Math.floor(r() * pool.length)]! : word(Math.floor(r() * 90));
      }
      const text = JSON.stringify({ status: 200 + (i % 300), headers });
      const got = fastHttpResponse(enc.encode(text));
      assert.ok(got, text);
      assert.equal(got.status, 200 + (i % 300));
      assert.deepEqual(Object.fromEntries(got.headers), headers, text);
    }
  });

  it('leaves anything but the compact form to the strict reader', () => {
    assert.equal(fastHttpResponse(enc.encode('{"status": 200,"headers":{}}')), undefined);
    assert.equal(fastHttpResponse(enc.encode('{"status":200,"headers":{"a":"\\u0041"}}')), undefined);
    assert.equal(fastHttpResponse(enc.encode('{"status":200,"headers":{"a":"1","a":"2"}}')), undefined);
    assert.deepEqual(fastHttpResponse(enc.encode('{"status":204,"headers":{}}')), { status: 204, headers: [] });
  });
});
