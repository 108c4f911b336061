// kit's package files: metadata.json and pkg/manifest.json, parsed with clear errors.

import type { Address, Capability, OnExit, ProcessId, Request } from '../types.js';
import { IdParseError, isKimapSafe, parseAddress, parseProcessId } from '../kernel/address.js';

export class ManifestError extends Error {}

export interface PackageMetadata {
  packageName: string;
  publisher: string;
  /** undefined when metadata.json does not say */
  witVersion: number | undefined;
}

export interface ManifestEntry {
  processName: string;
  wasmPath: string;
  onExit: OnExit;
  requestNetworking: boolean;
  requestCapabilities: unknown[];
  grantCapabilities: unknown[];
  public: boolean;
}

export function parseMetadata(text: string, label: string): PackageMetadata {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  const props = (j as { properties?: Record<string, unknown> })?.properties;
  if (!props || typeof props !== 'object') throw new ManifestError(`${label}: missing "properties"`);
  const { package_name, publisher, wit_version } = props as Record<string, unknown>;
  if (typeof package_name !== 'string' || package_name.length === 0) throw new ManifestError(`${label}: missing properties.package_name`);
  if (typeof publisher !== 'string' || publisher.length === 0) throw new ManifestError(`${label}: missing properties.publisher`);
  if (wit_version !== undefined && wit_version !== null && typeof wit_version !== 'number') {
    throw new ManifestError(`${label}: properties.wit_version must be a number`);
  }
  return { packageName: package_name, publisher, witVersion: typeof wit_version === 'number' ? wit_version : undefined };
}

export function parseManifest(text: string, label: string): ManifestEntry[] {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(j)) throw new ManifestError(`${label}: expected an array of process entries`);
  return j.map((raw, i) => parseEntry(raw, `${label}[${i}]`));
}

function parseEntry(raw: unknown, label: string): ManifestEntry {
  if (!raw || typeof raw !== 'object') throw new ManifestError(`${label}: expected an object`);
  const e = raw as Record<string, unknown>;
  const need = (k: string, type: string) => {
    if (typeof e[k] !== type) throw new ManifestError(`${label}: "${k}" must be a ${type}`);
    return e[k];
  };
  const processName = need('process_name', 'string') as string;
  const wasmPath = need('process_wasm_path', 'string') as string;
  if (!/^[a-zA-Z0-9-]+$/.test(processName)) throw new ManifestError(`${label}: bad process_name "${processName}"`);
  if (!wasmPath.startsWith('/') || !wasmPath.endsWith('.wasm')) {
    throw new ManifestError(`${label}: process_wasm_path must start with / and end with .wasm`);
  }
  const requestNetworking = need('request_networking', 'boolean') as boolean;
  const isPublic = need('public', 'boolean') as boolean;
  if (!Array.isArray(e.request_capabilities)) throw new ManifestError(`${label}: "request_capabilities" must be an array`);
  if (!Array.isArray(e.grant_capabilities)) throw new ManifestError(`${label}: "grant_capabilities" must be an array`);
  return {
    processName,
    wasmPath,
    onExit: parseOnExit(e.on_exit, label),
    requestNetworking,
    requestCapabilities: e.request_capabilities,
    grantCapabilities: e.grant_capabilities,
    public: isPublic,
  };
}

/** serde form of OnExit: "None" | "Restart" | {"Requests": [[address, request, blob|null], ...]} */
export function parseOnExit(v: unknown, label: string): OnExit {
  if (v === 'None') return { tag: 'none' };
  if (v === 'Restart') return { tag: 'restart' };
  if (v && typeof v === 'object' && Array.isArray((v as { Requests?: unknown }).Requests)) {
    const list = (v as { Requests: unknown[] }).Requests.map((item, i) => parseOnExitRequest(item, `${label}.on_exit[${i}]`));
    return { tag: 'requests', val: list };
  }
  throw new ManifestError(`${label}: "on_exit" must be "None", "Restart" or {"Requests": [...]}`);
}

function parseOnExitRequest(item: unknown, label: string): [Address, Request, undefined] {
  if (!Array.isArray(item) || item.length < 2) throw new ManifestError(`${label}: expected [address, request, blob]`);
  const [addr, req] = item as [unknown, Record<string, unknown>];
  let target: Address;
  try {
    target = parseAddress(String(addr));
  } catch (e) {
    throw new ManifestError(`${label}: ${(e as Error).message}`);
  }
  const body = Array.isArray(req?.body) ? Uint8Array.from(req.body as number[]) : new Uint8Array();
  return [
    target,
    {
      inherit: req?.inherit === true,
      expectsResponse: undefined,
      body,
      metadata: typeof req?.metadata === 'string' ? req.metadata : undefined,
      capabilities: [],
    },
    undefined,
  ];
}

/**
 * A capability entry of request_capabilities / grant_capabilities: a process id string
 * (messaging) or {"process": "...", "params": <JSON>}. Parsed with the era's process-id rules
 * (v1 accepts only Kimap-safe names). Returns undefined (caller prints) when unparsable.
 */
export function parseCapEntry(
  entry: unknown,
  generation: 0 | 1,
): { process: ProcessId; params: string } | { error: string } {
  let text: string;
  let params = '"messaging"';
  if (typeof entry === 'string') {
    text = entry;
  } else if (entry && typeof entry === 'object' && typeof (entry as { process?: unknown }).process === 'string') {
    text = (entry as { process: string }).process;
    params = JSON.stringify((entry as { params?: unknown }).params ?? null);
  } else {
    return { error: `unparsable capability entry ${JSON.stringify(entry)}` };
  }
  try {
    const pid = parseProcessId(text);
    if (generation === 1 && !isKimapSafe(pid)) return { error: `process id "${text}" is not Kimap-safe (v1)` };
    return { process: pid, params };
  } catch (e) {
    if (e instanceof IdParseError) return { error: e.message };
    throw e;
  }
}

export type { Capability };
