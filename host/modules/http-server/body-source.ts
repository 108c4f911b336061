// A request body read into memory up to a limit: from the request stream (streamBody) or, for
// an upgrade, from its `head`. Used by the pipeline before it forwards a request.

import type { IncomingMessage } from 'node:http';

export type BodyResult = { kind: 'ok'; bytes: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/** Where the request body comes from (the request stream, or an upgrade's `head`). */
export type BodySource = (limit: number) => Promise<BodyResult>;

/**
 * Stream a request body into memory, stopping past `limit` bytes. With a Content-Length the
 * body is copied into one buffer of that size as it arrives (no list of chunks plus a
 * concatenated copy: half the peak for large uploads).
 */
export function streamBody(req: IncomingMessage): BodySource {
  return (limit) =>
    new Promise((resolve) => {
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > limit) {
        resolve({ kind: 'too-large' });
        return;
      }
      const chunks: Buffer[] = [];
      const whole = Number.isFinite(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : undefined;
      let size = 0;
      let done = false;
      const finish = (r: BodyResult) => {
        if (done) return;
        done = true;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onAbort);
        req.off('aborted', onAbort);
        resolve(r);
      };
      const onData = (c: Buffer) => {
        if (size + c.length > limit || (whole && size + c.length > whole.length)) {
          size += c.length;
          finish({ kind: 'too-large' });
          return;
        }
        if (whole) c.copy(whole, size);
        else chunks.push(c);
        size += c.length;
      };
      const onEnd = () => finish({ kind: 'ok', bytes: whole ? whole.subarray(0, size) : Buffer.concat(chunks, size) });
      const onAbort = () => finish({ kind: 'aborted' });
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onAbort);
      req.on('aborted', onAbort);
    });
}
