// Server processes for http-server (kinode-host): JavaScript stand-ins for the Kinode book's
// http-server, ws-server and ws-server-with-reply examples, plus `echo`, which binds every kind
// of path and reflects what it receives. The behaviour is chosen by process name (prefix):
//
//   http-server           prints `begin`, binds `/` (unauthenticated, open, dynamic) awaiting
//                         the ack for 5 s like process_lib's HttpServer (an error traps, like
//                         the book's `.unwrap()`); then answers every PUT from http-server with
//                         200, no headers, empty body, and prints the request body as the Rust
//                         `{:?}` of `serde_json::from_slice::<Value>` (e.g.
//                         `Ok(Object {"Hello": String("greetings")})`); other requests print
//                         `received a non-PUT HTTP request, skipping` etc.
//   ws-server             the book's ws-server: binds WS `/`; on open pushes the Text
//                         `"ack client connection"` (JSON text); prints `got Text from WS:
//                         Ok("<text>")` for Text pushes, `got Close push` for Close.
//   ws-server-with-reply  the book's ws-server-with-reply: on open sends
//                         WebSocketExtPushOutgoing {Binary, desired Response} expecting a
//                         response in 15 s, blob = msgpack of the string "ack client connection";
//                         prints `got Text from WS: Ok("<text>")` for a Binary push holding a
//                         msgpack string, and `got send error!` when the ext request times out.
//   echo                  binds (awaiting each ack, printing `bind <what>: <reply>`):
//                           HTTP  /            open            /item/:id     open
//                                 /files/*rest open            /private      authenticated
//                                 /local       local_only      /static       cached text/html
//                                 /gone        bound, then unbound
//                                 /secure      SecureBind
//                           WS    /ws          open            /ws-private   authenticated
//                                 /ext         extension       /ws-secure    WebSocketSecureBind
//                         then prints `echo bound`. Each Http request is answered with status
//                         200 (or `?status=N`), header Content-Type application/json plus one
//                         header per `h_<name>=<value>` query parameter, and a JSON blob
//                         `{"http": <the IncomingHttpRequest>, "body": "<utf8 body>"}`.
//                         `?answer=garbage` answers an unparsable body; `?answer=none` never
//                         answers. WebSocket: on open pushes Text `{"open":path,"channel":id}`;
//                         Text frames: `close` -> WebSocketClose, `ping:<x>` -> Ping push,
//                         `ext:<x>` -> WebSocketExtPushOutgoing (desired Response) awaited for
//                         5 s, then pushes `ext reply: <blob utf8>` or `ext timeout`; anything
//                         else -> Text push `echo: <text>`. Binary frames are echoed as Binary.
//                         Every message from http-server is printed as `echo got <body>` and its
//                         blob (if any) as `echo blob <utf8>`.
//
// components/build.mjs builds this file twice, like the probe: for process-v0 it swaps the
// import specifier for 'kinode:process/standard@0.8.0' and the GENERATION value for 0.
import * as std from 'kinode:process/standard@1.0.0';

const GENERATION = /*@GENERATION*/1;

const SERVER = GENERATION === 0 ? 'http_server' : 'http-server';
const SERVER_PID = `${SERVER}:distro:sys`;
const SERVER_ADDR = { node: 'our', process: { processName: SERVER, packageName: 'distro', publisherNode: 'sys' } };

const encoder = new TextEncoder();
const utf8 = (s) => encoder.encode(s);
const text = (b) => new TextDecoder().decode(b);
const println = (s) => std.printToTerminal(0, s);
const isResultErr = (e) => e !== null && typeof e === 'object' && Object.prototype.hasOwnProperty.call(e, 'payload');
const pidStr = (p) => `${p.processName}:${p.packageName}:${p.publisherNode}`;
const messageBody = (m) => (m.tag === 'request' ? m.val.body : m.val[0].body);

function request(body, expects) {
  return {
    inherit: false,
    expectsResponse: expects === undefined ? undefined : BigInt(expects),
    body: typeof body === 'string' ? utf8(body) : body instanceof Uint8Array ? body : utf8(JSON.stringify(body)),
    metadata: undefined,
    capabilities: [],
  };
}

function response(body) {
  return { inherit: false, body: utf8(typeof body === 'string' ? body : JSON.stringify(body)), metadata: undefined, capabilities: [] };
}

/** send-and-await to http-server: reply body text, or throws the send-error kind */
function awaitServer(body, expects, blob) {
  try {
    const [, message] = std.sendAndAwaitResponse(SERVER_ADDR, request(body, expects), blob);
    return { ok: text(messageBody(message)) };
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return { err: e.payload.kind };
  }
}

/** process_lib's HttpServer::bind_*: await the ack, `.unwrap()` (trap) on anything but Ok */
function bindOrTrap(body) {
  const r = awaitServer(body, 5, undefined);
  if (r.err) throw new Error(`called \`Result::unwrap()\` on an \`Err\` value: ${r.err === 'timeout' ? 'Timeout' : r.err}`);
  let v;
  try {
    v = JSON.parse(r.ok);
  } catch {
    throw new Error('called `Result::unwrap()` on an `Err` value: UnexpectedResponse');
  }
  if (!v || !('Ok' in v)) throw new Error(`called \`Result::unwrap()\` on an \`Err\` value: ${JSON.stringify(v?.Err)}`);
}

function pushBody(channelId, type) {
  return { WebSocketPush: { channel_id: channelId, message_type: type } };
}

/** process_lib's send_ws_push: fire-and-forget WebSocketPush with the payload as blob */
function wsPush(channelId, type, bytes, mime) {
  std.sendRequest(SERVER_ADDR, request(pushBody(channelId, type)), undefined, { mime, bytes });
}

function receive() {
  try {
    const [source, message] = std.receive();
    return { source, message };
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return { err: e.payload };
  }
}

const fromServer = (source) => pidStr(source.process) === SERVER_PID;

// ---- Rust renderings ----

function rustStr(s) {
  let out = '"';
  for (const c of s) {
    const n = c.codePointAt(0);
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (n < 0x20 || n === 0x7f) out += `\\u{${n.toString(16)}}`;
    else out += c;
  }
  return `${out}"`;
}

/** `{:?}` of a serde_json::Value (default features: object keys sorted) */
function debugValue(v) {
  if (v === null) return 'Null';
  if (typeof v === 'boolean') return `Bool(${v})`;
  if (typeof v === 'number') return `Number(${Number.isInteger(v) ? v : v})`;
  if (typeof v === 'string') return `String(${rustStr(v)})`;
  if (Array.isArray(v)) return `Array [${v.map(debugValue).join(', ')}]`;
  const keys = Object.keys(v).sort();
  return `Object {${keys.map((k) => `${rustStr(k)}: ${debugValue(v[k])}`).join(', ')}}`;
}

/** `{:?}` of `serde_json::from_slice::<serde_json::Value>(bytes)` (errors approximated) */
function debugJsonResult(bytes) {
  let s;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'Err(Error("invalid unicode code point", line: 1, column: 1))';
  }
  try {
    return `Ok(${debugValue(JSON.parse(s))})`;
  } catch {
    return s.trim() === ''
      ? 'Err(Error("EOF while parsing a value", line: 1, column: 0))'
      : 'Err(Error("expected value", line: 1, column: 1))';
  }
}

/** `{:?}` of `String::from_utf8(bytes)` */
function debugUtf8Result(bytes) {
  try {
    return `Ok(${rustStr(new TextDecoder('utf-8', { fatal: true }).decode(bytes))})`;
  } catch {
    return 'Err(FromUtf8Error { .. })';
  }
}

// ---- msgpack strings (rmp_serde::to_vec_named / from_slice::<String>) ----

function msgpackStr(s) {
  const b = utf8(s);
  const head = b.length < 32 ? [0xa0 | b.length] : b.length < 256 ? [0xd9, b.length] : [0xda, b.length >> 8, b.length & 255];
  const out = new Uint8Array(head.length + b.length);
  out.set(head, 0);
  out.set(b, head.length);
  return out;
}

function msgpackStrDecode(b) {
  if (b.length === 0) return 'Err(InvalidMarkerRead(Error { kind: UnexpectedEof, message: "failed to fill whole buffer" }))';
  const m = b[0];
  let len;
  let off;
  if ((m & 0xe0) === 0xa0) [len, off] = [m & 0x1f, 1];
  else if (m === 0xd9) [len, off] = [b[1], 2];
  else if (m === 0xda) [len, off] = [(b[1] << 8) | b[2], 3];
  else if (m === 0xc4) [len, off] = [b[1], 2]; // bin 8 read as a string
  else return `Err(Syntax("invalid type: expected a string"))`;
  return debugUtf8Result(b.subarray(off, off + len));
}

// ---- the book's examples ----

function parseServerRequest(bytes) {
  try {
    return JSON.parse(text(bytes));
  } catch {
    return undefined;
  }
}

function httpServer() {
  println('begin');
  bindOrTrap({ Bind: { path: '/', authenticated: false, local_only: false, cache: false } });
  for (;;) {
    const m = receive();
    if (m.err) {
      println('got send error!');
      continue;
    }
    if (!fromServer(m.source)) continue;
    const req = parseServerRequest(messageBody(m.message));
    if (!req || typeof req !== 'object') {
      println('received a message with weird `body`!');
      continue;
    }
    const http = req.Http;
    if (!http) {
      println('received a WebSocket message, skipping');
      continue;
    }
    if (http.method !== 'PUT') {
      println('received a non-PUT HTTP request, skipping');
      continue;
    }
    const blob = std.getBlob();
    if (!blob) {
      println('received a PUT HTTP request with no body, skipping');
      continue;
    }
    std.sendResponse(response({ status: 200, headers: {} }), { mime: undefined, bytes: new Uint8Array(0) });
    println(debugJsonResult(blob.bytes));
  }
}

function wsBind(path, authenticated, extension) {
  return GENERATION === 0
    ? { WebSocketBind: { path, authenticated, encrypted: false, extension } }
    : { WebSocketBind: { path, authenticated, extension } };
}

function wsServer(withReply) {
  println('begin');
  let connection;
  bindOrTrap(wsBind('/', false, false));
  for (;;) {
    const m = receive();
    if (m.err) {
      println('got send error!');
      continue;
    }
    if (!fromServer(m.source)) continue;
    const req = parseServerRequest(messageBody(m.message));
    if (!req || typeof req !== 'object') {
      println('expected value at line 1 column 1');
      continue;
    }
    if (req.Http) {
      println('unexpected HTTP request');
    } else if (req.WebSocketOpen) {
      const { path, channel_id } = req.WebSocketOpen;
      if (path !== '/') throw new Error(`assertion \`left == right\` failed\n  left: ${rustStr(path)}\n right: "/"`);
      if (connection !== undefined) throw new Error(`assertion \`left == right\` failed\n  left: Some(${connection})\n right: None`);
      connection = channel_id;
      if (withReply) {
        std.sendRequest(
          SERVER_ADDR,
          request({ WebSocketExtPushOutgoing: { channel_id, message_type: 'Binary', desired_reply_type: 'Response' } }, 15),
          undefined,
          { mime: 'application/json', bytes: msgpackStr('ack client connection') },
        );
      } else {
        wsPush(channel_id, 'Text', utf8(JSON.stringify('ack client connection')), 'application/json');
      }
    } else if (req.WebSocketClose !== undefined) {
      if (connection !== req.WebSocketClose) throw new Error(`assertion \`left == right\` failed\n  left: ${connection === undefined ? 'None' : `Some(${connection})`}\n right: Some(${req.WebSocketClose})`);
      connection = undefined;
    } else if (req.WebSocketPush) {
      const { channel_id, message_type } = req.WebSocketPush;
      if (connection !== channel_id) throw new Error(`assertion \`left == right\` failed\n  left: ${connection === undefined ? 'None' : `Some(${connection})`}\n right: Some(${channel_id})`);
      if (message_type === 'Close') {
        println('got Close push');
        continue;
      }
      const expected = withReply ? 'Binary' : 'Text';
      if (message_type !== expected) throw new Error(`assertion \`left == right\` failed\n  left: ${message_type}\n right: ${expected}`);
      const blob = std.getBlob();
      if (!blob) {
        println('got WebSocketPush with no blob');
        continue;
      }
      println(`got Text from WS: ${withReply ? msgpackStrDecode(blob.bytes) : debugUtf8Result(blob.bytes)}`);
    }
  }
}

// ---- echo ----

function echo() {
  println('echo ready');
  const bind = (what, body, blob) => println(`bind ${what}: ${JSON.stringify(awaitServer(body, 5, blob))}`);
  const http = (path, authenticated, local_only, cache) => ({ Bind: { path, authenticated, local_only, cache } });
  bind('/', http('/', false, false, false));
  bind('/item/:id', http('/item/:id', false, false, false));
  bind('/files/*rest', http('/files/*rest', false, false, false));
  bind('/private', http('/private', true, false, false));
  bind('/local', http('/local', false, true, false));
  bind('/static', http('/static', false, false, true), { mime: 'text/html', bytes: utf8('<h1>static</h1>') });
  bind('/gone', http('/gone', false, false, false));
  bind('unbind /gone', { Unbind: { path: '/gone' } });
  bind('/secure', { SecureBind: { path: '/secure', cache: false } });
  bind('ws /ws', wsBind('/ws', false, false));
  bind('ws /ws-private', wsBind('/ws-private', true, false));
  bind('ws /ext', wsBind('/ext', false, true));
  bind(
    'ws /ws-secure',
    GENERATION === 0
      ? { WebSocketSecureBind: { path: '/ws-secure', encrypted: false, extension: false } }
      : { WebSocketSecureBind: { path: '/ws-secure', extension: false } },
  );
  println('echo bound');

  for (;;) {
    const m = receive();
    if (m.err) {
      println(`echo send error ${m.err[0].kind}`);
      continue;
    }
    if (!fromServer(m.source)) continue;
    const bodyText = text(messageBody(m.message));
    println(`echo got ${bodyText}`);
    const blob = std.getBlob();
    if (blob) println(`echo blob ${text(blob.bytes)}`);
    const req = parseServerRequest(messageBody(m.message));
    if (!req || typeof req !== 'object') continue;
    if (req.Http) echoHttp(req.Http, blob);
    else if (req.WebSocketOpen) {
      const { path, channel_id } = req.WebSocketOpen;
      wsPush(channel_id, 'Text', utf8(JSON.stringify({ open: path, channel: channel_id })));
    } else if (req.WebSocketPush) echoPush(req.WebSocketPush, blob);
  }
}

function echoHttp(http, blob) {
  const q = http.query_params ?? {};
  if (q.answer === 'none') return;
  if (q.answer === 'garbage') {
    std.sendResponse(response('this is not an HttpResponse'), undefined);
    return;
  }
  const headers = { 'Content-Type': 'application/json' };
  for (const [k, v] of Object.entries(q)) if (k.startsWith('h_')) headers[k.slice(2)] = v;
  const status = q.status !== undefined ? Number(q.status) : 200;
  const out = { http, body: blob ? text(blob.bytes) : null };
  std.sendResponse(response({ status, headers }), { mime: 'application/json', bytes: utf8(JSON.stringify(out)) });
}

function echoPush({ channel_id, message_type }, blob) {
  const bytes = blob ? blob.bytes : new Uint8Array(0);
  if (message_type === 'Binary') {
    wsPush(channel_id, 'Binary', bytes);
    return;
  }
  if (message_type !== 'Text') return;
  const t = text(bytes);
  if (t === 'close') {
    std.sendRequest(SERVER_ADDR, request({ WebSocketClose: channel_id }), undefined, undefined);
  } else if (t.startsWith('ping:')) {
    wsPush(channel_id, 'Ping', utf8(t.slice(5)));
  } else if (t.startsWith('ext:')) {
    const body = { WebSocketExtPushOutgoing: { channel_id, message_type: 'Binary', desired_reply_type: 'Response' } };
    const r = awaitServerWithBlob(body, 5, utf8(t.slice(4)));
    const reply = r.ok !== undefined ? `ext reply: ${r.blob}` : 'ext timeout';
    println(`echo ${reply}`);
    wsPush(channel_id, 'Text', utf8(reply));
  } else {
    wsPush(channel_id, 'Text', utf8(`echo: ${t}`));
  }
}

function awaitServerWithBlob(body, expects, bytes) {
  try {
    const [, message] = std.sendAndAwaitResponse(SERVER_ADDR, request(body, expects), { mime: undefined, bytes });
    const blob = std.getBlob();
    return { ok: text(messageBody(message)), blob: blob ? text(blob.bytes) : '' };
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return { err: e.payload.kind };
  }
}

export function init(our) {
  const name = our.slice(our.indexOf('@') + 1).split(':')[0];
  if (name.startsWith('http-server')) return httpServer();
  if (name.startsWith('ws-server-with-reply')) return wsServer(true);
  if (name.startsWith('ws-server')) return wsServer(false);
  if (name.startsWith('echo')) return echo();
  println(`servers: no behaviour for ${name}`);
}
