// Values of the `kinode:process/standard` WIT types, in exactly the shape jco lifts and
// lowers them (camelCase fields, `{tag, val}` variants, bigint u64, Uint8Array list<u8>),
// so messages cross the worker boundary without conversion.

export type Generation = 0 | 1;

export interface ProcessId {
  processName: string;
  packageName: string;
  publisherNode: string;
}

export interface PackageId {
  packageName: string;
  publisherNode: string;
}

export interface Address {
  node: string;
  process: ProcessId;
}

export interface LazyLoadBlob {
  mime: string | undefined;
  bytes: Uint8Array;
}

export interface Capability {
  issuer: Address;
  /** JSON text */
  params: string;
}

export interface Request {
  inherit: boolean;
  /** timeout in whole seconds */
  expectsResponse: bigint | undefined;
  body: Uint8Array;
  metadata: string | undefined;
  capabilities: Capability[];
}

export interface Response {
  inherit: boolean;
  body: Uint8Array;
  metadata: string | undefined;
  capabilities: Capability[];
}

export type Message =
  | { tag: 'request'; val: Request }
  | { tag: 'response'; val: [Response, Uint8Array | undefined] };

export type OnExit =
  | { tag: 'none' }
  | { tag: 'restart' }
  | { tag: 'requests'; val: Array<[Address, Request, LazyLoadBlob | undefined]> };

export type SendErrorKind = 'offline' | 'timeout';

export interface SendError {
  kind: SendErrorKind;
  target: Address;
  message: Message;
  lazyLoadBlob: LazyLoadBlob | undefined;
}

export type SpawnError = 'name-taken' | 'no-file-at-path';

/**
 * The kernel's envelope (Kinode's KernelMessage). Processes never see `id` or `rsvp`.
 * A Response's context slot is always undefined on the wire: the receiver substitutes its own.
 */
export interface KernelMessage {
  id: bigint;
  source: Address;
  target: Address;
  rsvp: Address | undefined;
  message: Message;
  lazyLoadBlob: LazyLoadBlob | undefined;
}

/** What the kernel puts in a process's inbox: a message, or a send-error for request `id`. */
export type Delivery =
  | { kind: 'message'; km: KernelMessage }
  | { kind: 'error'; id: bigint; error: SendError };
