// Short strings read out of wire bytes, remembered by a hash of their bytes. The names in every
// address (the message codec) and the header names and values of a process's HTTP answers
// (http-fast.ts) repeat on every message: a read that finds its string here allocates nothing.
// Direct-mapped and bounded; only ASCII strings are kept (their length is their byte count, so
// the byte-for-byte compare of a hit is exact).

const utf8 = new TextDecoder();

export class StringCache {
  private readonly slots: string[];
  private readonly mask: number;

  /** `size` slots (a power of two) of strings up to `maxBytes` long; longer ones are decoded. */
  constructor(size: number, private readonly maxBytes: number) {
    this.slots = new Array<string>(size).fill('');
    this.mask = size - 1;
  }

  /** The UTF-8 text of `buf[start, end)`. */
  text(buf: Uint8Array, start: number, end: number): string {
    const n = end - start;
    if (n === 0) return '';
    if (n > this.maxBytes) return utf8.decode(buf.subarray(start, end));
    let h = n;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    const slot = (h ^ (h >>> 9)) & this.mask;
    const hit = this.slots[slot]!;
    if (hit.length === n) {
      let i = 0;
      while (i < n && hit.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return hit;
    }
    // short strings: building them char by char is cheaper than a decoder call
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    this.slots[slot] = s;
    return s;
  }
}
