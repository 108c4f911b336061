// Client processes for http-client (kinode-host): JavaScript stand-ins for the Kinode book's
// http-client and ws-client examples, plus one that exercises every action and error.
// The behaviour is chosen by process name (prefix):
//
//   http-client  prints `begin`, waits for a Request {"url": "..."} or {"port": N} (then the
//                URL is http://127.0.0.1:N/file), GETs it like process_lib's
//                send_request_await_response(GET, url, None, 5, []) and prints the body, or
//                traps with `request failed: <error, Rust Debug form>`; then returns.
//   ws-client    the book's ws-client in its test form: prints `<process id>: begin`, waits for
//                a Request {"url": "ws://..."} from its parent, opens channel 0 (await 5 s),
//                handles one message from http-client (a Text push is printed as
//                `Received from server: Ok("<text>")` and answered with the Text push
//                "Hello from client" as JSON), sends {"Ok":null} to the parent, prints `done`.
//   exercise     waits for {"http": "http://127.0.0.1:P", "ws": "ws://127.0.0.1:Q",
//                "refused": "http://127.0.0.1:R"} and runs every action and error case against
//                those servers, printing `step <name>: <reply body>` for each, then sends the
//                parent {"steps": [...], "incoming": [...]} and prints `exercise done`.
//   bench        waits for {"url": "...", "n": N, "concurrency": C}, GETs the URL N times with
//                at most C requests in flight (send-request with expects-response 30 and a
//                context, answers taken by receive), then sends the parent {"n", "ok", "ms"}.
//
// components/build.mjs builds this file twice, like the probe: for process-v0 it swaps the
// import specifier for 'kinode:process/standard@0.8.0' and the GENERATION value for 0.
import * as std from 'kinode:process/standard@1.0.0';

const GENERATION = /*@GENERATION*/1;

const CLIENT = GENERATION === 0 ? 'http_client' : 'http-client';
const CLIENT_ADDR = { node: 'our', process: { processName: CLIENT, packageName: 'distro', publisherNode: 'sys' } };

const encoder = new TextEncoder();
const utf8 = (s) => encoder.encode(s);
const text = (b) => new TextDecoder().decode(b);
const strictText = (b) => new TextDecoder('utf-8', { fatal: true }).decode(b);
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

/** send-and-await to http-client: {ok: {body, blob}} or {err: send-error} */
function awaitClient(body, expects, blob) {
  try {
    const [, message] = std.sendAndAwaitResponse(CLIENT_ADDR, request(body, expects), blob);
    return { ok: { body: text(messageBody(message)), blob: std.getBlob() } };
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return { err: e.payload };
  }
}

/** `url::Url::to_string()` */
function normalizeUrl(u) {
  try {
    return new URL(u).href;
  } catch {
    return u;
  }
}

// ---- Rust renderings of HttpClientError (as JSON from the wire) ----

function rustStr(s) {
  let out = '"';
  for (const c of s) {
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) out += `\\u{${c.charCodeAt(0).toString(16)}}`;
    else out += c;
  }
  return `${out}"`;
}

const rustVal = (v) => (typeof v === 'string' ? rustStr(v) : String(v));

/** `{e:?}` */
function debugError(e) {
  if (typeof e === 'string') return e;
  const [name, val] = Object.entries(e)[0];
  if (val !== null && typeof val === 'object') {
    return `${name} { ${Object.entries(val).map(([k, v]) => `${k}: ${rustVal(v)}`).join(', ')} }`;
  }
  return `${name}(${rustVal(val)})`;
}

/** `{e}` (thiserror messages of the era's process_lib) */
function displayError(e) {
  const name = typeof e === 'string' ? e : Object.keys(e)[0];
  const v = typeof e === 'string' ? {} : e[name];
  if (GENERATION === 0) {
    switch (name) {
      case 'BadRequest': return `http_client: request is not valid HttpClientRequest: ${v.req}.`;
      case 'BadMethod': return `http_client: http method not supported: ${v.method}.`;
      case 'BadUrl': return `http_client: url could not be parsed: ${v.url}.`;
      case 'BadVersion': return `http_client: http version not supported: ${v.version}.`;
      case 'RequestFailed': return `http_client: failed to execute request ${v.error}.`;
      case 'WsOpenFailed': return `websocket_client: failed to open connection ${v.url}.`;
      case 'WsPushFailed': return `websocket_client: failed to send message ${v.req}.`;
      case 'WsCloseFailed': return `websocket_client: failed to close connection ${v.channel_id}.`;
    }
  } else {
    switch (name) {
      case 'MalformedRequest': return 'request could not be deserialized to valid HttpClientRequest';
      case 'BadMethod': return `http method not supported: ${v.method}`;
      case 'BadUrl': return `url could not be parsed: ${v.url}`;
      case 'BadVersion': return `http version not supported: ${v.version}`;
      case 'BuildRequestFailed': return `client failed to build request: ${v}`;
      case 'ExecuteRequestFailed': return `client failed to execute request: ${v}`;
      case 'WsOpenFailed': return `could not open connection to ${v.url}`;
      case 'WsPushUnknownChannel': return `sent WebSocket push to unknown channel ${v.channel_id}`;
      case 'WsPushNoBlob': return 'WebSocket push failed because message had no blob attached';
      case 'WsPushBadText': return 'WebSocket push failed because message type was Text, but blob was not a valid UTF-8 string';
      case 'WsCloseFailed': return `failed to close connection ${v.channel_id} because it was not open`;
    }
  }
  return JSON.stringify(e);
}

const timeoutError = () =>
  GENERATION === 0 ? { RequestFailed: { error: 'http_client timed out' } } : { ExecuteRequestFailed: 'http-client timed out' };

// ---- process_lib's http::client functions ----

/** send_request_await_response -> {ok: {status, headers, body}} | {err: HttpClientError json} */
function sendRequestAwaitResponse(method, url, headers, timeout, body) {
  const action = { Http: { method, version: null, url: normalizeUrl(url), headers: headers ?? {} } };
  const r = awaitClient(action, timeout, { mime: undefined, bytes: body });
  if (r.err) return { err: timeoutError() };
  let parsed;
  try {
    parsed = JSON.parse(r.ok.body);
  } catch (e) {
    return { err: GENERATION === 0 ? { RequestFailed: { error: `http_client gave invalid response: ${e}` } } : { ExecuteRequestFailed: `http-client gave invalid response: ${e}` } };
  }
  if (parsed.Err !== undefined) return { err: parsed.Err };
  if (parsed.Ok === 'WebSocketAck') {
    return { err: GENERATION === 0 ? { RequestFailed: { error: 'http_client gave unexpected response' } } : { ExecuteRequestFailed: 'http-client gave unexpected response' } };
  }
  const http = parsed.Ok.Http;
  return { ok: { status: http.status, headers: http.headers, body: r.ok.blob ? r.ok.blob.bytes : new Uint8Array(0) } };
}

/** open_ws_connection -> null | HttpClientError json */
function openWsConnection(url, headers, channelId) {
  const r = awaitClient({ WebSocketOpen: { url, headers: headers ?? {}, channel_id: channelId } }, 5, undefined);
  if (r.err) return { WsOpenFailed: { url } };
  let parsed;
  try {
    parsed = JSON.parse(r.ok.body);
  } catch {
    return { WsOpenFailed: { url } };
  }
  if (parsed.Ok === 'WebSocketAck') return null;
  if (parsed.Err !== undefined) return parsed.Err;
  return { WsOpenFailed: { url } };
}

/** send_ws_client_push (fire and forget) */
function sendWsClientPush(channelId, messageType, blob) {
  std.sendRequest(CLIENT_ADDR, request({ WebSocketPush: { channel_id: channelId, message_type: messageType } }), undefined, blob);
}

// ---- helpers ----

function receive() {
  try {
    const [source, message] = std.receive();
    return { source, message, blob: std.getBlob() };
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return { err: e.payload };
  }
}

/** The first Request whose body is a JSON object: [source, config] */
function awaitConfig() {
  for (;;) {
    const m = receive();
    if (m.err || m.message.tag !== 'request') continue;
    try {
      const v = JSON.parse(text(m.message.val.body));
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return [m.source, v];
    } catch {
      // not a config message
    }
  }
}

const fromClient = (source) =>
  source.process.processName === CLIENT && source.process.packageName === 'distro' && source.process.publisherNode === 'sys';

// ---- behaviours ----

function httpClient() {
  println('begin');
  const [, config] = awaitConfig();
  const url = config.url ?? `http://127.0.0.1:${config.port}/file`;
  const response = sendRequestAwaitResponse('GET', url, null, 5, new Uint8Array(0));
  if (response.err) throw new Error(`request failed: ${debugError(response.err)}`);
  let body;
  try {
    body = strictText(response.ok.body);
  } catch {
    throw new Error("couldn't read response");
  }
  println(body);
}

function handleHttpMessage(m, connection) {
  const req = JSON.parse(text(m.message.val.body));
  if (req.WebSocketClose) {
    if (req.WebSocketClose.channel_id !== connection) throw new Error('assertion failed: channel_id');
    return;
  }
  const push = req.WebSocketPush;
  if (!push) throw new Error('unknown variant');
  if (push.channel_id !== connection) throw new Error('assertion failed: channel_id');
  if (push.message_type === 'Close') {
    println('got Close push');
    return;
  }
  if (push.message_type !== 'Text') throw new Error(`assertion failed: message_type ${push.message_type}`);
  if (!m.blob) throw new Error('got WebSocketPush with no blob');
  let received;
  try {
    received = `Ok(${rustStr(strictText(m.blob.bytes))})`;
  } catch {
    received = 'Err(FromUtf8Error)';
  }
  println(`Received from server: ${received}`);
  sendWsClientPush(connection, 'Text', { mime: 'application/json', bytes: utf8(JSON.stringify('Hello from client')) });
}

function talkToWs(url) {
  const connection = 0;
  const err = openWsConnection(url, null, connection);
  if (err) return err;
  const m = receive();
  if (m.err) {
    println('got send error!');
    return null;
  }
  if (fromClient(m.source)) {
    try {
      handleHttpMessage(m, connection);
    } catch (e) {
      println(String(e.message ?? e));
    }
  }
  return null;
}

function wsClient(our) {
  println(`${our.slice(our.indexOf('@') + 1)}: begin`);
  println('in test');
  const [parent, config] = awaitConfig();
  println(`got parent ${parent.node}@${pidStr(parent.process)}`);
  const err = talkToWs(config.url);
  if (err) println(`error talking to ws: ${displayError(err)}`);
  std.sendRequest(parent, request({ Ok: null }), undefined, undefined);
  std.setOnExit({ tag: 'none' });
  println('done');
}

function exercise() {
  const [parent, config] = awaitConfig();
  const steps = [];
  const incoming = [];
  const step = (name, body, blob) => {
    const r = awaitClient(body, 5, blob);
    const entry = r.err
      ? { step: name, sendError: r.err.kind }
      : { step: name, body: r.ok.body, blob: r.ok.blob ? { mime: r.ok.blob.mime ?? null, text: text(r.ok.blob.bytes) } : null };
    steps.push(entry);
    println(`step ${name}: ${entry.body ?? `send error ${entry.sendError}`}`);
    return entry;
  };
  const http = (method, url, extra = {}) => ({ Http: { method, version: extra.version ?? null, url, headers: extra.headers ?? {} } });
  const push = (channel_id, message_type) => ({ WebSocketPush: { channel_id, message_type } });
  const blob = (s) => ({ mime: undefined, bytes: typeof s === 'string' ? utf8(s) : s });

  step('http-get', http('GET', `${config.http}/echo?x=1`, { headers: { 'X-Test': 'exercise' } }), blob(''));
  step('http-post', http('POST', `${config.http}/echo`, { headers: { 'Content-Type': 'text/plain' } }), blob('posted body'));
  step('http-put-no-blob', http('PUT', `${config.http}/echo`), undefined);
  step('http-status-404', http('GET', `${config.http}/missing`), blob(''));
  step('http-bad-method', http('GE T', `${config.http}/echo`), undefined);
  step('http-bad-url', http('GET', 'not a url'), undefined);
  step('http-bad-version', http('GET', `${config.http}/echo`, { version: 'HTTP/9' }), undefined);
  step('http-build-failed', http('GET', 'mailto:someone@example.com'), undefined);
  step('http-refused', http('GET', `${config.refused}/`), undefined);
  step('malformed', { Nope: {} }, undefined);

  step('ws-open-bad-url', { WebSocketOpen: { url: 'not a url', headers: {}, channel_id: 7 } });
  step('ws-open-refused', { WebSocketOpen: { url: config.refused.replace(/^http/, 'ws'), headers: {}, channel_id: 7 } });
  step('ws-push-unknown', push(7, 'Text'), blob('nobody'));
  step('ws-open', { WebSocketOpen: { url: config.ws, headers: { 'X-Exercise': 'yes' }, channel_id: 7 } });
  step('ws-push-text-no-blob', push(7, 'Text'), undefined);
  step('ws-push-bad-text', push(7, 'Text'), blob(new Uint8Array([0xff, 0xfe])));
  step('ws-push-binary-no-blob', push(7, 'Binary'), undefined);
  step('ws-push-text', push(7, 'Text'), blob('hello ws'));
  step('ws-push-binary', push(7, 'Binary'), blob(new Uint8Array([0, 1, 2, 255])));
  step('ws-push-ping', push(7, 'Ping'), undefined);
  step('ws-push-pong', push(7, 'Pong'), undefined);
  step('ws-open-8', { WebSocketOpen: { url: config.ws, headers: {}, channel_id: 8 } });
  step('ws-push-close-8', push(8, 'Close'), undefined);
  step('ws-close', { WebSocketClose: { channel_id: 7 } });
  step('ws-close-unknown', { WebSocketClose: { channel_id: 7 } });

  // frames and notices from the servers: until both channels have ended
  const closed = new Set();
  while (closed.size < 2) {
    const m = receive();
    if (m.err || m.message.tag !== 'request' || !fromClient(m.source)) continue;
    const body = text(m.message.val.body);
    incoming.push({ body, blob: m.blob ? { mime: m.blob.mime ?? null, bytes: Array.from(m.blob.bytes) } : null });
    println(`incoming ${body}`);
    const v = JSON.parse(body);
    if (v.WebSocketClose) closed.add(v.WebSocketClose.channel_id);
  }
  std.sendRequest(parent, request({ steps, incoming }), undefined, undefined);
  println('exercise done');
}

function bench() {
  const [parent, config] = awaitConfig();
  const n = config.n ?? 1000;
  const concurrency = config.concurrency ?? 16;
  const action = utf8(JSON.stringify({ Http: { method: 'GET', version: null, url: config.url, headers: {} } }));
  const empty = { mime: undefined, bytes: new Uint8Array(0) };
  const started = Date.now();
  let sent = 0;
  let done = 0;
  let ok = 0;
  const sendOne = () => {
    std.sendRequest(CLIENT_ADDR, request(action, 30), utf8(String(sent)), empty);
    sent++;
  };
  while (sent < Math.min(concurrency, n)) sendOne();
  while (done < n) {
    const m = receive();
    if (m.err) {
      done++;
    } else if (m.message.tag === 'response') {
      done++;
      if (text(messageBody(m.message)).startsWith('{"Ok"')) ok++;
    } else {
      continue;
    }
    if (sent < n) sendOne();
  }
  const ms = Date.now() - started;
  std.sendRequest(parent, request({ n, ok, ms }), undefined, undefined);
  println(`bench: ${ok}/${n} in ${ms} ms`);
}

export function init(our) {
  const name = our.slice(our.indexOf('@') + 1).split(':')[0];
  if (name.startsWith('http-client')) return httpClient();
  if (name.startsWith('ws-client')) return wsClient(our);
  if (name.startsWith('exercise')) return exercise();
  if (name.startsWith('bench')) return bench();
  println(`clients: no behaviour for ${name}`);
}
