// Storage app for kinode-host: a Kinode process that behaves like a process_lib app using
// vfs, kv and sqlite, steered by JSON commands like the probe (components/README.md, "Probe
// loop": a Request whose body is a JSON object with `op` is a command, answered with
// {"ok": result} or {"err": message} when it expects a response). Each op sends exactly the
// request sequence process_lib's helper sends (kinode_process_lib 0.9.6 for process-v0,
// 0.10.x/1.0.x for process-v1), with the same JSON bodies and blobs, and returns what came
// back: `{reply, blob}` per request (reply = the parsed JSON body, blob = {mime, text, b64} or
// null), or `{sendError: "timeout"|"offline"}`.
//
// components/build.mjs builds this file twice, like probe.js: for process-v0 it replaces the
// import specifier below with 'kinode:process/standard@0.8.0' and GENERATION with 0.
//
// It also answers http-server: `{"Http": ...}` requests whose path ends in `/api` get 200 with a
// JSON body `{"from": <our>, "api": "storage", "method": ..., "url": ...}`; other paths get 404.
//
// A process whose name starts with `demo` (the bundled demo package, components/demo) first runs
// what a process_lib app's init runs: init_logging, serve_ui("ui", ["/"]), a dynamic bind of
// `/api`, homepage::add_to_homepage; then it prints `hello from the demo package` and enters the
// command loop (which answers `/api`).
import * as std from 'kinode:process/standard@1.0.0';

const GENERATION = /*@GENERATION*/1;
const TIMEOUT = 5; // process_lib's default timeout (seconds)

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
  const clean = String(s).replace(/[^A-Za-z0-9+/]/g, '');
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

const isResultErr = (e) => e !== null && typeof e === 'object' && Object.prototype.hasOwnProperty.call(e, 'payload');

class ArgError extends Error {}

const pidStr = (p) => `${p.processName}:${p.packageName}:${p.publisherNode}`;
const addrStr = (a) => `${a.node}@${pidStr(a.process)}`;

function addrIn(v) {
  const s = String(v);
  const at = s.indexOf('@');
  const [node, rest] = at < 0 ? ['our', s] : [s.slice(0, at), s.slice(at + 1)];
  const p = rest.split(':');
  return { node, process: { processName: p[0] ?? '', packageName: p[1] ?? '', publisherNode: p.slice(2).join(':') } };
}

const HTTP_SERVER = GENERATION === 0 ? 'http_server' : 'http-server';
const sys = (name) => ({ node: 'our', process: { processName: name, packageName: 'distro', publisherNode: 'sys' } });
const VFS = sys('vfs');
const KV = sys('kv');
const SQLITE = sys('sqlite');
const HTTP = sys(HTTP_SERVER);

let OUR = null; // {node, process}, set in init
const ourPackage = () => `${OUR.process.packageName}:${OUR.process.publisherNode}`;
const packageIdJson = () => ({ package_name: OUR.process.packageName, publisher_node: OUR.process.publisherNode });

// bytes from {text} | {b64} | a string
function bytesArg(a, what) {
  if (typeof a === 'string') return utf8(a);
  if (a && typeof a === 'object') {
    if (typeof a.b64 === 'string') return fromB64(a.b64);
    if (typeof a.text === 'string') return utf8(a.text);
  }
  throw new ArgError(`${what} must be a string or {text} or {b64}`);
}

const blobOut = (b) => {
  if (b === undefined) return null;
  let t = null;
  try {
    t = new TextDecoder('utf-8', { fatal: true }).decode(b.bytes);
  } catch {}
  return { mime: b.mime ?? null, text: t, b64: toB64(b.bytes) };
};

function parseBody(bytes) {
  const t = text(bytes);
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

// ---- one request, awaited (process_lib's send_and_await_response) or fire-and-forget ----

// body: a JS value (JSON-encoded) or a string (sent verbatim, for bodies that need exact u64s)
function request(target, body, { blob, expects = TIMEOUT, metadata } = {}) {
  const req = {
    inherit: false,
    expectsResponse: expects === null ? undefined : BigInt(expects),
    body: utf8(typeof body === 'string' ? body : JSON.stringify(body)),
    metadata,
    capabilities: [],
  };
  if (expects === null) {
    std.sendRequest(target, req, undefined, blob);
    return { sent: true };
  }
  let message;
  try {
    [, message] = std.sendAndAwaitResponse(target, req, blob);
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return { sendError: e.payload.kind };
  }
  const b = message.tag === 'response' ? message.val[0].body : message.val.body;
  const rawBody = text(b);
  const meta = message.tag === 'response' ? message.val[0].metadata : message.val.metadata;
  return { reply: parseBody(b), rawBody, metadata: meta ?? null, blob: blobOut(std.getBlob()) };
}

const vfs = (path, action, opts) => request(VFS, { path, action }, opts);
const isOk = (r) => r.reply === 'Ok';

// ---- vfs ops: each is one VfsRequest, as process_lib's vfs helpers send it ----

const pathArg = (a) => {
  if (typeof a.path !== 'string') throw new ArgError('path must be a string');
  return a.path;
};

const uintArg = (v, what) => {
  if (!Number.isInteger(v) || v < 0) throw new ArgError(`${what} must be a non-negative integer`);
  return v;
};

function blobIn(a) {
  if (a.blob === undefined || a.blob === null) return undefined;
  return { mime: a.blob.mime ?? undefined, bytes: bytesArg(a.blob, 'blob') };
}

// process_lib's blob_bytes blobs have mime None
const dataBlob = (a) => ({ mime: undefined, bytes: bytesArg(a.data, 'data') });

const simple = (action) => (a) => {
  const path = pathArg(a);
  return () => vfs(path, action);
};

const VFS_OPS = {
  // vfs::create_drive(package_id, name, timeout): CreateDrive on /<package>/<name>
  createDrive: (a) => {
    if (typeof a.drive !== 'string') throw new ArgError('drive must be a string');
    return () => {
      const path = `/${a.package ?? ourPackage()}/${a.drive}`;
      return { path, ...vfs(path, 'CreateDrive') };
    };
  },
  openFile: (a) => {
    const path = pathArg(a);
    const create = a.create === true;
    return () => vfs(path, { OpenFile: { create } });
  },
  createFile: simple('CreateFile'),
  // dropping a vfs::File: CloseFile, fire-and-forget (noAwait: false awaits it instead)
  closeFile: (a) => {
    const path = pathArg(a);
    return () => vfs(path, 'CloseFile', { expects: a.await === true ? TIMEOUT : null });
  },
  write: (a) => {
    const path = pathArg(a);
    const blob = dataBlob(a);
    return () => vfs(path, 'Write', { blob });
  },
  writeAll: (a) => {
    const path = pathArg(a);
    const blob = dataBlob(a);
    return () => vfs(path, 'WriteAll', { blob });
  },
  append: (a) => {
    const path = pathArg(a);
    const blob = dataBlob(a);
    return () => vfs(path, 'Append', { blob });
  },
  syncAll: simple('SyncAll'),
  read: simple('Read'),
  readToEnd: simple('ReadToEnd'),
  readToString: simple('ReadToString'),
  readExact: (a) => {
    const path = pathArg(a);
    const length = uintArg(a.length, 'length');
    return () => vfs(path, GENERATION === 0 ? { ReadExact: length } : { ReadExact: { length } });
  },
  // seek: {"Start": n} | {"End": i} | {"Current": i}
  seek: (a) => {
    const path = pathArg(a);
    const from = a.from;
    if (!from || typeof from !== 'object' || Object.keys(from).length !== 1) throw new ArgError('from must be {Start|End|Current: n}');
    return () => vfs(path, GENERATION === 0 ? { Seek: { seek_from: from } } : { Seek: from });
  },
  readDir: simple('ReadDir'),
  metadata: simple('Metadata'),
  len: simple('Len'),
  setLen: (a) => {
    const path = pathArg(a);
    const len = uintArg(a.len, 'len');
    return () => vfs(path, { SetLen: len });
  },
  removeFile: simple('RemoveFile'),
  createDir: simple('CreateDir'),
  createDirAll: simple('CreateDirAll'),
  removeDir: simple('RemoveDir'),
  removeDirAll: simple('RemoveDirAll'),
  rename: (a) => {
    const path = pathArg(a);
    const new_path = String(a.newPath ?? '');
    return () => vfs(path, { Rename: { new_path } });
  },
  copyFile: (a) => {
    const path = pathArg(a);
    const new_path = String(a.newPath ?? '');
    return () => vfs(path, { CopyFile: { new_path } });
  },
  addZip: (a) => {
    const path = pathArg(a);
    const blob = dataBlob(a);
    return () => vfs(path, 'AddZip', { blob });
  },
  hash: simple('Hash'),
  // any VfsRequest: {path, action, blob?, expects? (null: fire-and-forget), metadata?}
  vfs: (a) => {
    const path = pathArg(a);
    const blob = blobIn(a);
    const expects = a.expects === undefined ? TIMEOUT : a.expects;
    const metadata = a.metadata === undefined || a.metadata === null ? undefined : String(a.metadata);
    return () => vfs(path, a.action, { blob, expects, metadata });
  },
  // any body (string verbatim, else JSON) to vfs, for malformed-request tests
  vfsRaw: (a) => {
    const body = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    const blob = blobIn(a);
    const expects = a.expects === undefined ? TIMEOUT : a.expects;
    return () => request(VFS, body, { blob, expects });
  },
};

// ---- logging::init_logging ----

const LEVELS = ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];
let logging = null; // {path, fileLevel, terminalLevel, maxSize, mapping}

function levelIndex(l, what) {
  const i = LEVELS.indexOf(String(l ?? '').toUpperCase());
  if (i < 0) throw new ArgError(`${what} must be one of ${LEVELS.join(', ')}`);
  return i;
}

// tracing-subscriber's JSON formatter with file and line, without target
function logLine(level, message) {
  const timestamp = new Date().toISOString().replace('Z', '000Z');
  return `${JSON.stringify({ timestamp, level, fields: { message }, filename: 'src/lib.rs', line_number: 1 })}\n`;
}

const LOG_OPS = {
  // {fileLevel?: "DEBUG", terminalLevel?: "INFO", maxLogFileSize?: bytes (v1: rotation, default 1 MiB)}
  initLogging: (a) => {
    const fileLevel = levelIndex(a.fileLevel ?? 'DEBUG', 'fileLevel');
    const terminalLevel = levelIndex(a.terminalLevel ?? 'INFO', 'terminalLevel');
    const maxSize = a.maxLogFileSize === undefined ? 1024 * 1024 : uintArg(a.maxLogFileSize, 'maxLogFileSize');
    return () => {
      const steps = [];
      const drivePath = `/${ourPackage()}/log`;
      const drive = vfs(drivePath, 'CreateDrive');
      steps.push(drive);
      if (!isOk(drive)) return { error: 'create_drive failed', steps };
      const path = `${drivePath}/${OUR.process.processName}.log`;
      const open = vfs(path, { OpenFile: { create: true } });
      steps.push(open);
      if (!isOk(open)) return { error: 'open_file failed', steps };
      logging = { path, fileLevel, terminalLevel, maxSize, mapping: [0, 1, 2, 3, 3] };
      return { path, steps };
    };
  },
  // one tracing event: {level, message}
  log: (a) => {
    const level = levelIndex(a.level ?? 'INFO', 'level');
    const message = String(a.message ?? '');
    return () => {
      if (!logging) return { error: 'logging not initialized' };
      const steps = [];
      if (level <= logging.terminalLevel) {
        std.printToTerminal(logging.mapping[level], `${LEVELS[level].padStart(5)} src/lib.rs:1: ${message}`);
      }
      if (level <= logging.fileLevel) {
        // a fresh File per event (FileWriterMaker::make_writer), dropped after the write
        if (GENERATION === 1) {
          // process_lib 0.10.2+: rotate when the file outgrew max_size
          const meta = vfs(logging.path, 'Metadata');
          steps.push(meta);
          if (meta.reply && meta.reply.Metadata && meta.reply.Metadata.len > logging.maxSize) {
            const whole = vfs(logging.path, 'Read');
            steps.push(whole);
            if (whole.blob) {
              const bytes = fromB64(whole.blob.b64);
              steps.push(vfs(logging.path, 'Write', { blob: { mime: undefined, bytes: bytes.subarray(Math.floor(bytes.length / 2)) } }));
            }
          }
        }
        steps.push(vfs(logging.path, 'Append', { blob: { mime: undefined, bytes: utf8(logLine(LEVELS[level], message)) } }));
        vfs(logging.path, 'CloseFile', { expects: null });
      }
      return { steps };
    };
  },
};

// ---- http::server helpers ----

// mime_guess 2.0.5's first type (what kinode 0.9.10 / 1.0.0 lock) for the extensions a UI ships
const MIME = {
  html: 'text/html', htm: 'text/html', js: 'text/javascript', mjs: 'text/javascript', css: 'text/css',
  json: 'application/json', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', svg: 'image/svg+xml',
  ico: 'image/x-icon', txt: 'text/plain', wasm: 'application/wasm', woff: 'font/woff', woff2: 'font/woff2', map: 'application/json',
  webp: 'image/webp', xml: 'text/xml',
};

function mimeOf(path) {
  const base = path.split('/').pop();
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return MIME[base.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

function bindConfig(a) {
  return { authenticated: a.authenticated !== false, localOnly: a.localOnly === true, secure: a.secureSubdomain === true };
}

// bind_http_path with static content (cache: true) or without
function bindPath(path, config, blob) {
  const cache = blob !== undefined;
  const body = config.secure
    ? { SecureBind: { path, cache } }
    : { Bind: { path, authenticated: config.authenticated, local_only: config.localOnly, cache } };
  return { bind: path, ...request(HTTP, body, { blob }) };
}

class Stop extends Error {
  constructor(result) {
    super('stop');
    this.result = result;
  }
}

// serve_file_raw_path: Read the path verbatim, then bind every path with the file as blob
function serveRaw(filePath, paths, config, steps) {
  const read = vfs(filePath, 'Read');
  steps.push(read);
  if (!read.blob) throw new Stop({ error: 'NoBlob', steps });
  const blob = { mime: mimeOf(filePath), bytes: fromB64(read.blob.b64) };
  for (const p of paths) {
    const b = bindPath(p, config, blob);
    steps.push(b);
    if (!(b.reply && typeof b.reply === 'object' && 'Ok' in b.reply)) throw new Stop({ error: 'bind failed', steps });
  }
}

const HTTP_OPS = {
  // serve_ui(directory, roots, config): BFS over ReadDir from "<pkg>/pkg/<directory>"
  serveUi: (a) => {
    const directory = String(a.directory ?? 'ui');
    const roots = Array.isArray(a.roots) ? a.roots.map(String) : ['/'];
    const config = bindConfig(a);
    return () => {
      const steps = [];
      const initial = `${ourPackage()}/pkg/${directory}`;
      const queue = [initial];
      try {
        while (queue.length > 0) {
          const dir = vfs(queue.shift(), 'ReadDir');
          steps.push(dir);
          if (dir.sendError) return { error: GENERATION === 0 ? `PathBindError: no ui directory to serve: ${initial}` : 'MalformedRequest', steps };
          if (!dir.reply || typeof dir.reply !== 'object' || !Array.isArray(dir.reply.ReadDir)) return { error: 'UnexpectedResponse', steps };
          for (const entry of dir.reply.ReadDir) {
            if (entry.file_type === 'Directory') queue.push(entry.path);
            else if (entry.file_type === 'File') {
              const rel = entry.path.split(initial).join('');
              if (entry.path.endsWith('index.html')) for (const root of roots) serveRaw(entry.path, [root, rel], config, steps);
              else serveRaw(entry.path, [rel], config, steps);
            }
          }
        }
      } catch (e) {
        if (e instanceof Stop) return e.result;
        throw e;
      }
      return { steps };
    };
  },
  // serve_file(file_path, paths, config): Read /<pkg>/pkg/<file_path>, bind each path
  serveFile: (a) => {
    const filePath = String(a.filePath ?? '');
    const paths = Array.isArray(a.paths) ? a.paths.map(String) : [];
    const config = bindConfig(a);
    return () => {
      const steps = [];
      const full = `/${ourPackage()}/pkg/${filePath.replace(/^\/+/, '')}`;
      const read = vfs(full, 'Read');
      steps.push(read);
      if (!read.blob) return { error: 'NoBlob', steps };
      const blob = { mime: mimeOf(filePath), bytes: fromB64(read.blob.b64) };
      for (const p of paths) steps.push(bindPath(p, config, blob));
      return { steps };
    };
  },
  // bind_http_static_path(path, authenticated, local_only, content_type, content)
  bindHttpStaticPath: (a) => {
    const path = String(a.path ?? '/');
    const body = { Bind: { path, authenticated: a.authenticated === true, local_only: a.localOnly === true, cache: true } };
    const blob = { mime: a.contentType ?? undefined, bytes: bytesArg(a.data, 'data') };
    return () => request(HTTP, body, { blob });
  },
  // a dynamic binding answered by this process (the UI's API path)
  bindApi: (a) => {
    const path = String(a.path ?? '/api');
    return () => bindPath(path, { authenticated: a.authenticated === true, localOnly: false, secure: false }, undefined);
  },
};

// ---- kv and sqlite: process_lib's request sequences ----

const keyBytes = (k) => Array.from(utf8(JSON.stringify(k))); // typed keys travel as their JSON text
// tx ids are random u64s: kept as their digits, never as JS numbers
const txIdOf = (r) => {
  const m = /"tx_id":\s*([0-9]+)/.exec(r.rawBody ?? '');
  return m ? m[1] : null;
};

const STORE_OPS = {
  // kv::open, set, get, delete, get (KeyNotFound), begin_tx, set in tx, commit_tx, get
  kvSequence: (a) => {
    const db = String(a.db ?? 'store');
    return () => {
      const base = `{"package_id":${JSON.stringify(packageIdJson())},"db":${JSON.stringify(db)},"action":`;
      const kv = (action, blob) => request(KV, `${base}${action}}`, { blob });
      const get = (key) => kv(GENERATION === 0 ? `{"Get":{"key":${JSON.stringify(keyBytes(key))}}}` : `{"Get":${JSON.stringify(keyBytes(key))}}`);
      const value = (v) => ({ mime: undefined, bytes: utf8(JSON.stringify(v)) });
      const steps = [];
      const step = (name, r) => (steps.push({ step: name, ...r }), r);
      step('open', kv('"Open"'));
      step('set', kv(`{"Set":{"key":${JSON.stringify(keyBytes('foo'))},"tx_id":null}}`, value({ n: 1 })));
      step('get', get('foo'));
      step('delete', kv(`{"Delete":{"key":${JSON.stringify(keyBytes('foo'))},"tx_id":null}}`));
      step('getMissing', get('foo'));
      const tx = txIdOf(step('beginTx', kv('"BeginTx"')));
      if (tx !== null) {
        step('setInTx', kv(`{"Set":{"key":${JSON.stringify(keyBytes('bar'))},"tx_id":${tx}}}`, value('in tx')));
        step('getBeforeCommit', get('bar'));
        step('commit', kv(`{"Commit":{"tx_id":${tx}}}`));
        step('getAfterCommit', get('bar'));
      }
      return { steps };
    };
  },
  // sqlite::open, write (CREATE, INSERT with params), begin_tx, write in tx, commit_tx, read with params
  sqliteSequence: (a) => {
    const db = String(a.db ?? 'store');
    return () => {
      const base = `{"package_id":${JSON.stringify(packageIdJson())},"db":${JSON.stringify(db)},"action":`;
      const params = (list) => ({ mime: undefined, bytes: utf8(JSON.stringify(list)) });
      const sq = (action, blob) => request(SQLITE, `${base}${action}}`, { blob });
      const write = (statement, list, tx = 'null') => sq(`{"Write":{"statement":${JSON.stringify(statement)},"tx_id":${tx}}}`, params(list));
      const read = (query, list) => sq(GENERATION === 0 ? `{"Read":{"query":${JSON.stringify(query)}}}` : `{"Query":${JSON.stringify(query)}}`, params(list));
      const steps = [];
      const step = (name, r) => (steps.push({ step: name, ...r }), r);
      step('open', sq('"Open"'));
      step('create', write('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER)', []));
      step('insert', write('INSERT INTO items (name, n) VALUES (?1, ?2)', ['alice', 1]));
      const tx = txIdOf(step('beginTx', sq('"BeginTx"')));
      if (tx !== null) {
        step('insertInTx', write('INSERT INTO items (name, n) VALUES (?1, ?2)', ['bob', 2], tx));
        step('commit', sq(`{"Commit":{"tx_id":${tx}}}`));
      }
      step('select', read('SELECT name, n FROM items WHERE n >= ?1 ORDER BY id', [1]));
      step('badKeyword', read('DELETE FROM items', []));
      return { steps };
    };
  },
};

// ---- benchmark ----

const BENCH_OPS = {
  // n x (Write of `size` bytes, then Read of the same file), each awaited as process_lib does;
  // returns the elapsed ms (wall clock inside the process) and the bytes read back.
  // `parts` ("write", "read", "blob"; default all three) leaves steps out, to see what costs.
  vfsLoop: (a) => {
    const parts = new Set(Array.isArray(a.parts) ? a.parts : ['write', 'read', 'blob']);
    const path = pathArg(a);
    const size = uintArg(a.size, 'size');
    const n = uintArg(a.n, 'n');
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = i & 255;
    return () => {
      const req = (action) => ({ inherit: false, expectsResponse: BigInt(TIMEOUT), body: utf8(JSON.stringify({ path, action })), metadata: undefined, capabilities: [] });
      const write = req('Write');
      const read = req('Read');
      let readBack = 0;
      const start = Date.now();
      for (let i = 0; i < n; i++) {
        if (parts.has('write')) std.sendAndAwaitResponse(VFS, write, { mime: undefined, bytes });
        if (parts.has('read')) std.sendAndAwaitResponse(VFS, read, undefined);
        if (parts.has('blob')) {
          const b = std.getBlob();
          readBack += b === undefined ? 0 : b.bytes.length;
        }
      }
      return { ms: Date.now() - start, readBack };
    };
  },
};

// ---- generic ----

const OTHER_OPS = {
  // any request: {target, body (string verbatim | JSON), blob?, expects? (null: fire-and-forget), metadata?}
  await: (a) => {
    const target = addrIn(a.target);
    const body = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? null);
    const blob = blobIn(a);
    const expects = a.expects === undefined ? TIMEOUT : a.expects;
    const metadata = a.metadata === undefined || a.metadata === null ? undefined : String(a.metadata);
    return () => request(target, body, { blob, expects, metadata });
  },
  print: (a) => () => (std.printToTerminal(a.verbosity ?? 0, String(a.text ?? '')), null),
  our: () => () => addrStr(OUR),
  ourCaps: () => () => std.ourCapabilities().map((c) => ({ issuer: addrStr(c.issuer), params: c.params })),
  // requests received that were neither commands nor http-server traffic
  inbox: () => () => inbox.splice(0),
};

const OPS = { ...VFS_OPS, ...LOG_OPS, ...HTTP_OPS, ...STORE_OPS, ...BENCH_OPS, ...OTHER_OPS };

// ---- loop ----

const inbox = [];

function reply(value) {
  std.sendResponse({ inherit: false, body: utf8(JSON.stringify(value)), metadata: undefined, capabilities: [] }, undefined);
}

function runCommand(cmd, request) {
  const wantsReply = request.expectsResponse !== undefined;
  let call;
  try {
    const op = Object.prototype.hasOwnProperty.call(OPS, cmd.op) ? OPS[cmd.op] : null;
    if (!op) throw new ArgError(`unknown op ${JSON.stringify(cmd.op)}`);
    call = op(cmd);
  } catch (e) {
    if (!(e instanceof ArgError) && !(e instanceof TypeError) && !(e instanceof RangeError)) throw e;
    if (wantsReply) reply({ err: e.message });
    return;
  }
  const result = call();
  if (wantsReply) reply({ ok: result === undefined ? null : result });
}

function isHttpServer(source) {
  const p = source.process;
  return p.processName === HTTP_SERVER && p.packageName === 'distro' && p.publisherNode === 'sys';
}

function answerHttp(http) {
  const path = String(http.url ?? '').replace(/[?#].*$/, '');
  if (!/\/api\/?$/.test(path)) {
    std.sendResponse({ inherit: false, body: utf8(JSON.stringify({ status: 404, headers: {} })), metadata: undefined, capabilities: [] }, undefined);
    return;
  }
  const json = JSON.stringify({ from: addrStr(OUR), api: 'storage', method: http.method, url: http.url });
  std.sendResponse(
    { inherit: false, body: utf8(JSON.stringify({ status: 200, headers: { 'Content-Type': 'application/json' } })), metadata: undefined, capabilities: [] },
    { mime: 'application/json', bytes: utf8(json) },
  );
}

// ---- the demo package's init (process name prefix `demo`) ----

const HOMEPAGE = { node: 'our', process: { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' } };
const DEMO_ICON = `data:image/svg+xml;base64,${toB64(utf8(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#0f766e"/>' +
    '<circle cx="32" cy="32" r="14" fill="none" stroke="#fff" stroke-width="6"/><circle cx="32" cy="32" r="4" fill="#fff"/></svg>',
))}`;
const DEMO_WIDGET =
  '<html><body style="margin:0;height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;' +
  'font:600 15px system-ui;background:#ecfdf5;color:#0f766e">Demo app running' +
  '<span style="margin-top:6px;font-weight:400;font-size:13px">UI and API served from its package</span></body></html>';

// each step's failure is printed (verbosity 0) and the next steps still run: the API and the
// homepage card are useful even if the UI files are missing
function runDemoInit() {
  const fail = (what, r) => std.printToTerminal(0, `demo: ${what} failed: ${JSON.stringify(r.error ?? r.sendError ?? r.reply ?? r)}`);
  const logging = LOG_OPS.initLogging({})();
  if (logging.error) fail('init_logging', logging);
  else LOG_OPS.log({ level: 'INFO', message: 'demo: logging to ' + logging.path })();
  const ui = HTTP_OPS.serveUi({ directory: 'ui', roots: ['/'] })();
  if (ui.error) fail('serve_ui', ui);
  const api = HTTP_OPS.bindApi({ path: '/api', authenticated: true })();
  if (!(api.reply && typeof api.reply === 'object' && 'Ok' in api.reply)) fail('bind /api', api);
  request(HOMEPAGE, { Add: { label: 'Demo', icon: DEMO_ICON, path: '/', widget: DEMO_WIDGET } }, { expects: null });
  std.printToTerminal(0, 'hello from the demo package');
}

export function init(our) {
  OUR = addrIn(our);
  if (OUR.process.processName.startsWith('demo')) runDemoInit();
  else std.printToTerminal(0, `storage ready ${our}`);
  for (;;) {
    let source, message;
    try {
      [source, message] = std.receive();
    } catch (e) {
      if (!isResultErr(e)) throw e;
      inbox.push({ kind: 'error', errorKind: e.payload[0]?.kind ?? null });
      continue;
    }
    if (message.tag !== 'request') continue;
    const req = message.val;
    let parsed = null;
    try {
      parsed = JSON.parse(text(req.body));
    } catch {}
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'op' in parsed) {
      runCommand(parsed, req);
      continue;
    }
    if (isHttpServer(source) && parsed && typeof parsed === 'object' && parsed.Http) {
      answerHttp(parsed.Http);
      continue;
    }
    inbox.push({ kind: 'request', source: addrStr(source), body: text(req.body) });
  }
}
