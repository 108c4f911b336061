// A test process for the runtime's tester (tester:tester:sys), as `kit new --template echo`'s
// `echo-test` is one: it answers the tester's `Run` request with `{"Run":{"Ok":null}}` or
// `{"Run":{"Err":{"test","file","line","column"}}}`. Its one check: a command sent to the probe
// `echo:kitsetup:kinode-host.os` (a setup package) is answered within 5 s. That needs the
// messaging capability capabilities.json requests for the test (and the grant that lets the
// probe answer), so the same component passes or fails depending on what the tester gave it.
// The failure's file/line/column are where it was detected (read from the JS stack), as
// kit's `fail!` macro reports Rust's file!/line!/column!.
//
// components/build.mjs builds it like the probe: for process-v0 it swaps the import specifier
// for 'kinode:process/standard@0.8.0' and the GENERATION value for 0.
import * as std from 'kinode:process/standard@1.0.0';

const GENERATION = /*@GENERATION*/1;

const encoder = new TextEncoder();
const utf8 = (s) => encoder.encode(s);
const text = (b) => new TextDecoder().decode(b);
const isResultErr = (e) => e !== null && typeof e === 'object' && Object.prototype.hasOwnProperty.call(e, 'payload');

const TARGET = { node: 'our', process: { processName: 'echo', packageName: 'kitsetup', publisherNode: 'kinode-host.os' } };

/** file, line and column of the caller, from the engine's stack (`fn@file:line:col` lines). */
function here() {
  const frames = String(new Error().stack ?? '').split('\n').filter((l) => l.length > 0);
  const m = /^(?:.*@)?(.*):(\d+):(\d+)$/.exec(frames[1] ?? '');
  if (!m) return { file: 'tester-case.js', line: 0, column: 0 };
  return { file: m[1].replace(/^.*\/components\//, 'components/'), line: Number(m[2]), column: Number(m[3]) };
}

function respond(body) {
  std.sendResponse({ inherit: false, body: utf8(JSON.stringify(body)), metadata: undefined, capabilities: [] }, undefined);
}

function fail(at, why) {
  std.printToTerminal(0, `tester-case: FAIL: ${why}`);
  respond({ Run: { Err: { test: 'tester-case', ...at } } });
}

function runCheck() {
  const request = { inherit: false, expectsResponse: 5n, body: utf8(JSON.stringify({ op: 'print', verbosity: 0, text: 'hello from tester-case' })), metadata: undefined, capabilities: [] };
  let message;
  try {
    [, message] = std.sendAndAwaitResponse(TARGET, request, undefined);
  } catch (e) {
    if (!isResultErr(e)) throw e;
    return fail(here(), `echo:kitsetup:kinode-host.os did not answer (${e.payload?.kind ?? 'send error'})`);
  }
  const reply = text(message.tag === 'response' ? message.val[0].body : message.val.body);
  if (reply !== '{"ok":null}') return fail(here(), `unexpected reply ${reply}`);
  std.printToTerminal(0, `tester-case: PASS (v${GENERATION})`);
  respond({ Run: { Ok: null } });
}

export function init(our) {
  std.printToTerminal(0, `tester-case ready ${our}`);
  for (;;) {
    let message;
    try {
      [, message] = std.receive();
    } catch (e) {
      if (!isResultErr(e)) throw e;
      continue;
    }
    if (message.tag !== 'request') continue;
    let body;
    try {
      body = JSON.parse(text(message.val.body));
    } catch {
      body = null;
    }
    if (body && typeof body === 'object' && body.Run) runCheck();
    else if (message.val.expectsResponse !== undefined) fail(here(), `not a Run request: ${text(message.val.body)}`);
  }
}
