// The storage component (components/storage/storage.js) as tests use it: where its builds are
// and the shape of what its ops return for each request they send.

import { fileURLToPath } from 'node:url';

export const storageWasm = (gen: 0 | 1): string => fileURLToPath(new URL(`../../components/build/storage-v${gen}.wasm`, import.meta.url));

export interface Blob {
  mime: string | null;
  text: string | null;
  b64: string;
}

/** One request's outcome: the reply (parsed JSON body, raw body, metadata, blob) or a send error. */
export interface Reply {
  reply?: unknown;
  rawBody?: string;
  metadata?: string | null;
  blob?: Blob | null;
  sendError?: string;
}
