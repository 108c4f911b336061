// `WsRegister`, the first frame of a WebSocket opened on `/` (the Kinode docs' WebSocket API):
// `{"auth_token": "<the kinode-auth_<node> cookie's value>", "target_process": "p:k:pub",
//  "encrypted": false}` as text or binary JSON. Kinode 0.9 declares `encrypted` (bool), 1.0
// drops it; we accept it missing, and refuse `true` (no encrypted channels exist anywhere).

import { asOptBool, asString, parseJson, structFields, WireError } from './serde-json.js';

export interface WsRegister {
  authToken: string;
  targetProcess: string;
  encrypted: boolean;
}

/** Throws WireError. */
export function parseWsRegister(bytes: Uint8Array): WsRegister {
  const f = structFields(parseJson(bytes), 'WsRegister', ['auth_token', 'target_process', 'encrypted'], ['encrypted']);
  return {
    authToken: asString(f.get('auth_token')!, 'auth_token'),
    targetProcess: asString(f.get('target_process')!, 'target_process'),
    encrypted: asOptBool(f.get('encrypted')!, 'encrypted') ?? false,
  };
}

export { WireError };
