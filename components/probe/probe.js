// Conformance probe for kinode-host: a Kinode process driven by JSON commands.
// Protocol: components/README.md. components/build.mjs builds this file twice; for
// process-v0 it replaces the import specifier below with 'kinode:process/standard@0.8.0'
// and the GENERATION value with 0. As written, the file is the process-v1 source.
import * as std from 'kinode:process/standard@1.0.0';

const GENERATION = /*@GENERATION*/1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const utf8 = (s) => encoder.encode(s);
const text = (bytes) => decoder.decode(bytes);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toB64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

function fromB64(s) {
  const clean = String(s).replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const c of clean) {
    acc = ((acc << 6) | B64.indexOf(c)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 255;
    }
  }
  return out.subarray(0, j);
}

// A thrown value carrying the err side of an import's result<_, E> (componentize-js
// throws `ComponentError` with an own `payload` property).
const isResultErr = (e) => e !== null && typeof e === 'object' && Object.prototype.hasOwnProperty.call(e, 'payload');

// Invalid command arguments: answered with {"err": message}, never a trap.
class ArgError extends Error {}

// ---- conversions between the JSON command format and jco values ----

const pidStr = (p) => `${p.processName}:${p.packageName}:${p.publisherNode}`;
const addrStr = (a) => `${a.node}@${pidStr(a.process)}`;

// No validation on purpose: malformed strings reach the host as they are.
function pidIn(v) {
  if (v && typeof v === 'object') {
    return { processName: String(v.processName ?? ''), packageName: String(v.packageName ?? ''), publisherNode: String(v.publisherNode ?? '') };
  }
  const p = String(v).split(':');
  return { processName: p[0] ?? '', packageName: p[1] ?? '', publisherNode: p.slice(2).join(':') };
}

function addrIn(v) {
  if (v && typeof v === 'object') return { node: String(v.node ?? ''), process: pidIn(v.process ?? '') };
  const s = String(v);
  const at = s.indexOf('@');
  return at < 0 ? { node: '', process: pidIn(s) } : { node: s.slice(0, at), process: pidIn(s.slice(at + 1)) };
}

// body: object/array -> JSON text; string -> UTF-8; b64 wins when given
function bytesIn(value, b64) {
  if (b64 !== undefined && b64 !== null) return fromB64(b64);
  if (value === undefined) return new Uint8Array(0);
  return utf8(typeof value === 'string' ? value : JSON.stringify(value));
}

const jsonText = (v) => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v));

function blobIn(b) {
  if (b === undefined || b === null) return undefined;
  if (typeof b !== 'object') throw new ArgError('blob must be an object {mime?, text?|b64?}');
  return { mime: b.mime ?? undefined, bytes: bytesIn(b.text ?? '', b.b64) };
}

const blobOut = (b) => (b === undefined ? null : { mime: b.mime ?? null, b64: toB64(b.bytes) });

function capIn(c) {
  if (!c || typeof c !== 'object') throw new ArgError('capability must be {issuer, params}');
  return { issuer: addrIn(c.issuer), params: jsonText(c.params) ?? '' };
}

const capOut = (c) => ({ issuer: addrStr(c.issuer), params: c.params });

function capsIn(list) {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ArgError('caps must be a list');
  return list.map(capIn);
}

function expectsIn(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ArgError('expects must be a non-negative integer');
  return BigInt(v);
}

function requestIn(a) {
  return {
    inherit: a.inherit === true,
    expectsResponse: expectsIn(a.expects),
    body: bytesIn(a.body, a.bodyB64),
    metadata: jsonText(a.metadata),
    capabilities: capsIn(a.caps),
  };
}

function responseIn(a) {
  return { inherit: a.inherit === true, body: bytesIn(a.body, a.bodyB64), metadata: jsonText(a.metadata), capabilities: capsIn(a.caps) };
}

function contextIn(a) {
  if (a.contextB64 !== undefined && a.contextB64 !== null) return fromB64(a.contextB64);
  return a.context === undefined || a.context === null ? undefined : utf8(String(a.context));
}

function onExitIn(v) {
  if (typeof v === 'string') {
    if (v.toLowerCase() === 'none') return { tag: 'none' };
    if (v.toLowerCase() === 'restart') return { tag: 'restart' };
  } else if (v && typeof v === 'object' && Array.isArray(v.Requests)) {
    return {
      tag: 'requests',
      val: v.Requests.map((entry) => {
        if (!Array.isArray(entry)) throw new ArgError('Requests entries are [target, request, blob?]');
        return [addrIn(entry[0]), requestIn(entry[1] ?? {}), blobIn(entry[2])];
      }),
    };
  }
  throw new ArgError('onExit must be "None", "Restart" or {"Requests": [...]}');
}

function onExitOut(o) {
  if (o.tag === 'none') return 'None';
  if (o.tag === 'restart') return 'Restart';
  return { Requests: o.val.length };
}

const messageBody = (m) => (m.tag === 'request' ? m.val.body : m.val[0].body);
const messageCaps = (m) => (m.tag === 'request' ? m.val.capabilities : m.val[0].capabilities);
const messageMeta = (m) => (m.tag === 'request' ? m.val.metadata : m.val[0].metadata);

function sendErrorOut(se) {
  return {
    errorKind: se.kind,
    target: addrStr(se.target),
    errorMessageBody: text(messageBody(se.message)),
    errorBlob: blobOut(se.lazyLoadBlob),
  };
}

function inboxEntry(received, blob) {
  if (received.err) {
    const [se, context] = received.err;
    const body = messageBody(se.message);
    return {
      kind: 'error',
      source: null,
      body: text(body),
      bodyB64: toB64(body),
      expects: se.message.tag === 'request' && se.message.val.expectsResponse !== undefined ? Number(se.message.val.expectsResponse) : null,
      context: context === undefined ? null : text(context),
      metadata: messageMeta(se.message) ?? null,
      blob: blobOut(blob),
      ...sendErrorOut(se),
      caps: messageCaps(se.message).map(capOut),
    };
  }
  const { source, message } = received;
  const body = messageBody(message);
  const isRequest = message.tag === 'request';
  const context = isRequest ? undefined : message.val[1];
  return {
    kind: isRequest ? 'request' : 'response',
    source: addrStr(source),
    body: text(body),
    bodyB64: toB64(body),
    expects: isRequest && message.val.expectsResponse !== undefined ? Number(message.val.expectsResponse) : null,
    context: context === undefined ? null : text(context),
    metadata: messageMeta(message) ?? null,
    blob: blobOut(blob),
    caps: messageCaps(message).map(capOut),
  };
}

// ---- commands ----

const EXIT = Symbol('exit');
let inbox = [];
let autoResponse = null; // {response, blob} sent to every non-command Request expecting one

function v1Only(op) {
  if (GENERATION === 0) throw new ArgError(`${op} is not available in process-v0`);
}

// Each op validates and converts its arguments, then returns the function that calls the
// host. Errors while preparing become {"err": ...} replies; errors from the call trap.
const OPS = {
  print: (a) => {
    const v = a.verbosity ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new ArgError('verbosity must be an integer 0..255');
    return () => (std.printToTerminal(v, String(a.text ?? '')), null);
  },
  send: (a) => {
    const args = [addrIn(a.target), requestIn(a), contextIn(a), blobIn(a.blob)];
    return () => (std.sendRequest(...args), null);
  },
  sendMany: (a) => {
    if (!Array.isArray(a.requests)) throw new ArgError('requests must be a list');
    const list = a.requests.map((r) => [addrIn(r.target), requestIn(r), contextIn(r), blobIn(r.blob)]);
    return () => (std.sendRequests(list), null);
  },
  await: (a) => {
    const args = [addrIn(a.target), requestIn(a), blobIn(a.blob)];
    return () => {
      let source, message;
      try {
        [source, message] = std.sendAndAwaitResponse(...args);
      } catch (e) {
        if (!isResultErr(e)) throw e;
        return { err: sendErrorOut(e.payload) };
      }
      const body = messageBody(message);
      const blob = std.getBlob();
      return { ok: { source: addrStr(source), body: text(body), bodyB64: toB64(body), blob: blobOut(blob), caps: messageCaps(message).map(capOut) } };
    };
  },
  respond: (a) => {
    const response = responseIn(a);
    const blob = blobIn(a.blob);
    return { noReply: true, call: () => std.sendResponse(response, blob) };
  },
  getBlob: () => () => blobOut(std.getBlob()),
  hasBlob: () => (v1Only('hasBlob'), () => std.hasBlob()),
  lastBlob: () => (v1Only('lastBlob'), () => blobOut(std.lastBlob())),
  our: () => (v1Only('our'), () => addrStr(std.our())),
  getState: () => () => {
    const s = std.getState();
    return s === undefined ? null : { b64: toB64(s), text: text(s) };
  },
  setState: (a) => {
    const bytes = bytesIn(a.text ?? '', a.b64);
    return () => (std.setState(bytes), null);
  },
  clearState: () => () => (std.clearState(), null),
  spawn: (a) => {
    const grants = (a.grantCaps ?? []).map((g) => {
      const pid = pidIn(Array.isArray(g) ? g[0] : g);
      if (GENERATION === 0) return pid;
      return [pid, Array.isArray(g) ? jsonText(g[1]) ?? '' : '"messaging"'];
    });
    const args = [
      a.name === undefined || a.name === null ? undefined : String(a.name),
      String(a.wasmPath ?? ''),
      onExitIn(a.onExit ?? 'None'),
      capsIn(a.requestCaps),
      grants,
      a.public === true,
    ];
    return () => {
      try {
        return { ok: pidStr(std.spawn(...args)) };
      } catch (e) {
        if (!isResultErr(e)) throw e;
        return { err: e.payload };
      }
    };
  },
  saveCaps: (a) => {
    const caps = capsIn(a.caps);
    return () => (std.saveCapabilities(caps), null);
  },
  dropCaps: (a) => {
    const caps = capsIn(a.caps);
    return () => (std.dropCapabilities(caps), null);
  },
  ourCaps: () => () => std.ourCapabilities().map(capOut),
  setOnExit: (a) => {
    const onExit = onExitIn(a.onExit);
    return () => (std.setOnExit(onExit), null);
  },
  getOnExit: () => () => onExitOut(std.getOnExit()),
  inbox: () => () => {
    const entries = inbox;
    inbox = [];
    return entries;
  },
  // Load generator for benchmarks: n requests to target, at most `window` outstanding;
  // expects > 0 -> request/response (each response awaited through receive), else fire-and-forget.
  flood: (a) => {
    const target = addrIn(a.target);
    const n = Number(a.n ?? 1000);
    const windowSize = Number(a.window ?? 64);
    const expects = a.expects === undefined ? 5n : a.expects === null ? undefined : BigInt(a.expects);
    const body = bytesIn(a.body ?? 'x', a.bodyB64);
    const blob = blobIn(a.blob); // the same blob with every request (storage benchmarks)
    return () => {
      const req = { inherit: false, expectsResponse: expects, body, metadata: undefined, capabilities: [] };
      const start = Date.now();
      if (expects === undefined) {
        for (let i = 0; i < n; i++) std.sendRequest(target, req, undefined, blob);
        return { n, ms: Date.now() - start };
      }
      let sent = 0;
      let done = 0;
      let errors = 0;
      while (done < n) {
        while (sent < n && sent - done < windowSize) {
          std.sendRequest(target, req, undefined, blob);
          sent++;
        }
        const r = receive();
        if (r.err) errors++;
        else if (r.message.tag !== 'response') continue;
        done++;
      }
      return { n, ms: Date.now() - start, errors };
    };
  },
  autoRespond: (a) => {
    const next = a.response === undefined || a.response === null ? null : { response: responseIn(a.response), blob: blobIn(a.response.blob), quiet: a.quiet === true };
    return () => ((autoResponse = next), null);
  },
  trap: (a) => ({
    noReply: true,
    call: () => {
      throw new Error(String(a.message ?? 'probe trap'));
    },
  }),
  exit: () => ({ noReply: true, call: () => EXIT }),
  spin: () => ({ noReply: true, call: spin }),
};

function spin() {
  let x = 0;
  for (;;) x = (x + 1) | 0;
}

function reply(value) {
  std.sendResponse({ inherit: false, body: utf8(JSON.stringify(value)), metadata: undefined, capabilities: [] }, undefined);
}

function parseCommand(body) {
  let v;
  try {
    v = JSON.parse(text(body));
  } catch {
    return null;
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'op' in v ? v : null;
}

function runCommand(cmd, request) {
  let wantsReply = request.expectsResponse !== undefined && cmd.noReply !== true;
  let call;
  try {
    const op = Object.prototype.hasOwnProperty.call(OPS, cmd.op) ? OPS[cmd.op] : null;
    if (!op) throw new ArgError(`unknown op ${JSON.stringify(cmd.op)}`);
    const prepared = op(cmd);
    if (typeof prepared === 'function') call = prepared;
    else {
      call = prepared.call;
      if (prepared.noReply) wantsReply = false;
    }
  } catch (e) {
    if (!(e instanceof ArgError) && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof SyntaxError)) throw e;
    if (wantsReply) reply({ err: e.message });
    return undefined;
  }
  const result = call();
  if (result === EXIT) return EXIT;
  if (wantsReply) reply({ ok: result === undefined ? null : result });
  return undefined;
}

// ---- receive loop ----

function receive() {
  try {
    const [source, message] = std.receive();
    return { source, message };
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return { err: e.payload };
  }
}

// `extra(source, request, blob)` may claim a non-command Request (returns true).
function serve(extra) {
  for (;;) {
    const received = receive();
    const blob = std.getBlob();
    const request = received.message?.tag === 'request' ? received.message.val : undefined;
    if (request) {
      const cmd = parseCommand(request.body);
      if (cmd) {
        if (runCommand(cmd, request) === EXIT) return;
        continue;
      }
      if (extra && extra(received.source, request, blob)) continue;
    }
    if (request && autoResponse && autoResponse.quiet) {
      // benchmark mode: answer without logging
      if (request.expectsResponse !== undefined) std.sendResponse(autoResponse.response, autoResponse.blob);
      continue;
    }
    const entry = inboxEntry(received, blob);
    inbox.push(entry);
    std.printToTerminal(1, `inbox ${JSON.stringify(entry)}`);
    if (request && request.expectsResponse !== undefined && autoResponse) {
      std.sendResponse(autoResponse.response, autoResponse.blob);
    }
  }
}

// ---- special behaviours chosen by process name ----

const HTTP_SERVER = GENERATION === 0 ? 'http_server' : 'http-server';

function demo(our) {
  std.printToTerminal(0, 'hello from the demo package');
  const bind = { Bind: { path: '/', authenticated: false, local_only: false, cache: false } };
  const target = { node: 'our', process: { processName: HTTP_SERVER, packageName: 'distro', publisherNode: 'sys' } };
  try {
    const [, message] = std.sendAndAwaitResponse(target, requestIn({ body: bind, expects: 5 }), undefined);
    std.printToTerminal(0, `bind reply: ${text(messageBody(message))}`);
  } catch (e) {
    if (!isResultErr(e)) throw e;
    std.printToTerminal(0, `bind failed: ${JSON.stringify(sendErrorOut(e.payload))}`);
  }
  serve((source, request) => {
    const p = source.process;
    if (p.processName !== HTTP_SERVER || p.packageName !== 'distro' || p.publisherNode !== 'sys') return false;
    let http;
    try {
      http = JSON.parse(text(request.body)).Http;
    } catch {
      return false;
    }
    if (!http || typeof http !== 'object') return false;
    std.sendResponse(
      responseIn({ body: { status: 200, headers: { 'Content-Type': 'text/plain' } } }),
      { mime: 'text/plain', bytes: utf8(`hello from ${our}\n${http.method} ${http.url}\n`) },
    );
    return true;
  });
}

function restartLoop() {
  const state = std.getState();
  const n = (state === undefined ? 0 : parseInt(text(state), 10) || 0) + 1;
  std.setState(utf8(String(n)));
  std.printToTerminal(0, `start ${n}`);
  throw new Error(`restart-loop trap ${n}`);
}

export function init(our) {
  const name = our.slice(our.indexOf('@') + 1).split(':')[0];
  if (name.startsWith('trap-init')) {
    std.printToTerminal(0, 'trapping in init');
    throw new Error('init trap');
  }
  if (name.startsWith('exit-init')) {
    std.printToTerminal(0, 'exiting init');
    return;
  }
  if (name.startsWith('spin-init')) {
    std.printToTerminal(0, 'spinning');
    spin();
  }
  if (name.startsWith('restart-loop')) restartLoop();
  if (name.startsWith('demo')) return demo(our);
  std.printToTerminal(0, `probe ready ${our}`);
  serve(null);
}
