// Blobs a module hands over with its message: it will never read or change the bytes again, so
// when they go to a process the kernel may transfer their buffer to the process's worker
// instead of copying them (process/message-codec.ts "with blobs"; measured in
// docs/performance.md "vfs blobs"). Opt-in, because the kernel cannot know on its own who else
// holds a blob: a module may cache what it sends, and the kernel keeps a process's request blob
// for the timeout error. A transferred buffer is detached on this thread afterwards, so only
// bytes that no one keeps may be marked.

const handedOver = new WeakSet<Uint8Array>();

/** Mark `bytes` as given up by their creator; returns them. */
export function handOver<T extends Uint8Array>(bytes: T): T {
  handedOver.add(bytes);
  return bytes;
}

/** Were `bytes` handed over (so the kernel may transfer them to a worker)? */
export function isHandedOver(bytes: Uint8Array): boolean {
  return handedOver.has(bytes);
}
