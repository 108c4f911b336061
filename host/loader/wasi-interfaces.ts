// The WASI 0.2 interfaces a process may import: what the Kinode runtime links
// (wasmtime-wasi's command set). The host's own layer (process/wasi/) provides all but
// wasi:sockets, for which a process gets preview2-shim (process/wasi/shim.ts). Keys are jco's
// import keys (version dropped); values name the shim's namespace and member.

export const WASI_INTERFACES: Record<string, [string, string]> = {};

const groups: Record<string, string[]> = {
  cli: ['environment', 'exit', 'stdin', 'stdout', 'stderr', 'terminal-input', 'terminal-output', 'terminal-stdin', 'terminal-stdout', 'terminal-stderr'],
  clocks: ['wall-clock', 'monotonic-clock'],
  filesystem: ['types', 'preopens'],
  io: ['error', 'poll', 'streams'],
  random: ['random', 'insecure', 'insecure-seed'],
  sockets: ['network', 'instance-network', 'tcp', 'tcp-create-socket', 'udp', 'udp-create-socket', 'ip-name-lookup'],
};

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

for (const [ns, members] of Object.entries(groups)) {
  for (const m of members) WASI_INTERFACES[`wasi:${ns}/${m}`] = [ns, camel(m)];
}

/** 'wasi:io/streams@0.2.0' -> 'wasi:io/streams' */
export const unversioned = (name: string): string => name.replace(/@[^@/]*$/, '');
