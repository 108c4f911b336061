// JSON for kernel records that hold bigint and bytes (on-exit requests, capabilities).

export function encode(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return { $bigint: x.toString() };
    if (x instanceof Uint8Array) return { $bytes: Buffer.from(x).toString('base64') };
    return x;
  });
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_k, x: unknown) => {
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
      if (typeof o.$bytes === 'string') return new Uint8Array(Buffer.from(o.$bytes, 'base64'));
    }
    return x;
  }) as T;
}
