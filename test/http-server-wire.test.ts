// http-server wire shapes: serde_json parsing and serialization of both generations, and the
// msgpack extension envelope byte for byte against hand-computed rmp_serde output.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  actionErrorBody,
  actionOkBody,
  httpRequestBody,
  parseHttpResponse,
  parseHttpServerAction,
  parseLoginInfo,
  parseRpcMessage,
  parseServerRequest,
  rpcResponseBody,
  wsCloseBody,
  wsOpenBody,
  wsPushBody,
  type ServerErrorKind,
} from '../host/wire/http-server.js';
import { decodeExtFrame, encodeExtPushData } from '../host/wire/msgpack.js';
import { enc, dec } from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const strHex = (s: string): string => Buffer.from(s).toString('hex');

describe('HttpServerAction parsing', () => {
  it('reads every variant of both generations', () => {
    for (const gen of [0, 1] as const) {
      assert.deepEqual(parseHttpServerAction(enc('{"Bind":{"path":"/","authenticated":true,"local_only":false,"cache":false}}'), gen), {
        tag: 'Bind', path: '/', authenticated: true, localOnly: false, cache: false,
      });
      assert.deepEqual(parseHttpServerAction(enc('{"SecureBind":{"path":"/a","cache":true}}'), gen), { tag: 'SecureBind', path: '/a', cache: true });
      assert.deepEqual(parseHttpServerAction(enc('{"Unbind":{"path":"/a"}}'), gen), { tag: 'Unbind', path: '/a' });
      assert.deepEqual(parseHttpServerAction(enc('{"WebSocketUnbind":{"path":"/a"}}'), gen), { tag: 'WebSocketUnbind', path: '/a' });
      assert.deepEqual(parseHttpServerAction(enc('{"WebSocketOpen":{"path":"/","channel_id":7}}'), gen), { tag: 'WebSocketOpen', path: '/', channelId: 7 });
      assert.deepEqual(parseHttpServerAction(enc('{"WebSocketPush":{"channel_id":4294967295,"message_type":"Ping"}}'), gen), {
        tag: 'WebSocketPush', channelId: 4294967295, messageType: 'Ping',
      });
      assert.deepEqual(
        parseHttpServerAction(enc('{"WebSocketExtPushOutgoing":{"channel_id":1,"message_type":"Binary","desired_reply_type":"Response"}}'), gen),
        { tag: 'WebSocketExtPushOutgoing', channelId: 1, messageType: 'Binary', desiredReplyType: 'Response' },
      );
      assert.deepEqual(
        parseHttpServerAction(enc('{"WebSocketExtPushData":{"id":18446744073709551615,"kinode_message_type":"Request","blob":[1,255]}}'), gen),
        { tag: 'WebSocketExtPushData', id: 18446744073709551615n, kinodeMessageType: 'Request', blob: new Uint8Array([1, 255]) },
      );
      assert.deepEqual(parseHttpServerAction(enc('{"WebSocketClose":7}'), gen), { tag: 'WebSocketClose', channelId: 7 });
    }
  });

  it('v0 WebSocket binds require `encrypted`; v1 ignores it', () => {
    const withEnc = enc('{"WebSocketBind":{"path":"/","authenticated":false,"encrypted":false,"extension":true}}');
    const without = enc('{"WebSocketBind":{"path":"/","authenticated":false,"extension":true}}');
    const expected = { tag: 'WebSocketBind', path: '/', authenticated: false, extension: true };
    assert.deepEqual(parseHttpServerAction(withEnc, 0), expected);
    assert.deepEqual(parseHttpServerAction(withEnc, 1), expected);
    assert.throws(() => parseHttpServerAction(without, 0), /missing field `encrypted`/);
    assert.deepEqual(parseHttpServerAction(without, 1), expected);
    assert.throws(() => parseHttpServerAction(enc('{"WebSocketSecureBind":{"path":"/","extension":false}}'), 0), /encrypted/);
    assert.deepEqual(parseHttpServerAction(enc('{"WebSocketSecureBind":{"path":"/","extension":false}}'), 1), {
      tag: 'WebSocketSecureBind', path: '/', extension: false,
    });
  });

  it('is strict like serde: required fields, types, ranges, one enum key; unknown fields ignored', () => {
    const bad = [
      '',
      'null',
      '{"Bind":{"path":"/","authenticated":true,"local_only":false}}', // cache missing
      '{"Bind":{"path":"/","authenticated":"yes","local_only":false,"cache":false}}',
      '{"Bind":{"path":"/","path":"/x","authenticated":true,"local_only":false,"cache":false}}', // duplicate
      '{"WebSocketPush":{"channel_id":4294967296,"message_type":"Text"}}', // > u32
      '{"WebSocketPush":{"channel_id":-1,"message_type":"Text"}}',
      '{"WebSocketPush":{"channel_id":1.0,"message_type":"Text"}}',
      '{"WebSocketPush":{"channel_id":1,"message_type":"text"}}', // variant names are case-sensitive
      '{"WebSocketClose":{"channel_id":7}}', // v1 server shape is a bare number
      '{"Unbind":{"path":"/"},"Bind":{}}',
      '{"Nope":{}}',
      '"Bind"',
      '{"Bind":{"path":"/","authenticated":true,"local_only":false,"cache":false}} x',
      '{"WebSocketExtPushData":{"id":1,"kinode_message_type":"Request","blob":[256]}}',
    ];
    for (const b of bad) assert.throws(() => parseHttpServerAction(enc(b), 1), Error, b);
    assert.deepEqual(parseHttpServerAction(enc('{"Unbind":{"path":"/","extra":[1,{"x":2}]}}'), 1), { tag: 'Unbind', path: '/' });
    // serde's sequence form of a struct, and a unit variant as {"Name": null}
    assert.deepEqual(parseHttpServerAction(enc('{"WebSocketPush":[3,{"Text":null}]}'), 0), { tag: 'WebSocketPush', channelId: 3, messageType: 'Text' });
    // invalid UTF-8 is an error
    assert.throws(() => parseHttpServerAction(new Uint8Array([0x7b, 0xff, 0x7d]), 1));
  });
});

describe('replies to actions', () => {
  it('Ok is {"Ok":null}', () => assert.equal(dec(actionOkBody()), '{"Ok":null}'));

  it('errors in each generation enum', () => {
    const cases: Array<[ServerErrorKind, string, string]> = [
      ['no-blob', '{"Err":"NoBlob"}', '{"Err":"NoBlob"}'],
      ['invalid-source', '{"Err":{"PathBindError":{"error":"invalid source process"}}}', '{"Err":"InvalidSourceProcess"}'],
      ['ping-pong-too-long', '{"Err":{"WebSocketPushError":{"error":"Ping and Pong messages must be 125 bytes or less"}}}', '{"Err":"WsPingPongTooLong"}'],
      ['channel-not-found', '{"Err":{"WebSocketPushError":{"error":"WebSocket channel not found"}}}', '{"Err":"WsChannelNotFound"}'],
      ['channel-not-owned', '{"Err":{"WebSocketPushError":{"error":"WebSocket channel not owned by this process"}}}', '{"Err":"WsChannelNotFound"}'],
      ['channel-closed', '{"Err":{"WebSocketPushError":{"error":"WebSocket channel closed"}}}', '{"Err":"WsChannelNotFound"}'],
      ['open-not-valid', '{"Err":{"WebSocketPushError":{"error":"WebSocketOpen is not a valid request"}}}', '{"Err":"MalformedRequest"}'],
      ['ext-push-data-not-valid', '{"Err":{"WebSocketPushError":{"error":"Use WebSocketExtPushOutgoing, not WebSocketExtPushData"}}}', '{"Err":"MalformedRequest"}'],
    ];
    for (const [kind, v0, v1] of cases) {
      assert.equal(dec(actionErrorBody({ kind }, 0)), v0);
      assert.equal(dec(actionErrorBody({ kind }, 1)), v1);
    }
    const body = new Uint8Array([...enc('{"x":"é"'), 0xff]);
    assert.equal(dec(actionErrorBody({ kind: 'malformed', body }, 0)), '{"Err":{"BadRequest":{"req":"{\\"x\\":\\"é\\"\uFFFD"}}}');
    assert.equal(dec(actionErrorBody({ kind: 'malformed', body }, 1)), '{"Err":"MalformedRequest"}');
  });
});

describe('requests to processes', () => {
  it('IncomingHttpRequest in field order, parseable back', () => {
    const body = httpRequestBody({
      sourceSocketAddr: '127.0.0.1:51234',
      method: 'PUT',
      url: 'http://localhost/a:b:c/x',
      boundPath: '/a:b:c/:id',
      headers: [['host', 'localhost:8080'], ['x-q', 'say "hi"']],
      urlParams: [['id', 'x']],
      queryParams: [['a', '1 2']],
    });
    assert.equal(
      dec(body),
      '{"Http":{"source_socket_addr":"127.0.0.1:51234","method":"PUT","url":"http://localhost/a:b:c/x",' +
        '"bound_path":"/a:b:c/:id","headers":{"host":"localhost:8080","x-q":"say \\"hi\\""},"url_params":{"id":"x"},' +
        '"query_params":{"a":"1 2"}}}',
    );
    const back = parseServerRequest(body);
    assert.equal(back.tag, 'Http');
    const none = httpRequestBody({ sourceSocketAddr: undefined, method: 'GET', url: 'u', boundPath: 'b', headers: [], urlParams: [], queryParams: [] });
    assert.match(dec(none), /^\{"Http":\{"source_socket_addr":null,/);
  });

  it('WebSocket notices', () => {
    assert.equal(dec(wsOpenBody('/', 3141592653)), '{"WebSocketOpen":{"path":"/","channel_id":3141592653}}');
    assert.equal(dec(wsPushBody(9, 'Close')), '{"WebSocketPush":{"channel_id":9,"message_type":"Close"}}');
    assert.equal(dec(wsCloseBody(9)), '{"WebSocketClose":9}');
    assert.deepEqual(parseServerRequest(wsCloseBody(9)), { tag: 'WebSocketClose', channelId: 9 });
  });

  it('HttpResponse from the process', () => {
    assert.deepEqual(parseHttpResponse(enc('{"status":201,"headers":{"A":"1","A":"2","b":"x"}}')), { status: 201, headers: [['A', '2'], ['b', 'x']] });
    assert.throws(() => parseHttpResponse(enc('{"status":70000,"headers":{}}')));
    assert.throws(() => parseHttpResponse(enc('{"status":200}')));
    assert.throws(() => parseHttpResponse(enc('{"status":200,"headers":{"a":1}}')));
    assert.throws(() => parseHttpResponse(enc('not json')));
  });

  it('the compact forms process_lib writes (read in place) and any other spelling read the same', () => {
    const same = (compact: string, other: string, read: (b: Uint8Array) => unknown): void =>
      assert.deepEqual(read(enc(compact)), read(enc(other)));
    same('{"status":200,"headers":{"Content-Type":"text/plain"}}', '{ "headers": {"Content-Type" : "text/plain"}, "status": 200 }', parseHttpResponse);
    same('{"status":404,"headers":{}}', '[404, {}]', parseHttpResponse);
    same('{"status":200,"headers":{"x":"\u00e9"}}', '{"status":200,"headers":{"x":"é"}}', parseHttpResponse);
    for (const gen of [0, 1] as const) {
      const read = (b: Uint8Array) => parseHttpServerAction(b, gen);
      same('{"WebSocketPush":{"channel_id":7,"message_type":"Binary"}}', '{"WebSocketPush":{"message_type":"Binary","channel_id":7}}', read);
      same('{"WebSocketPush":{"channel_id":0,"message_type":"Text"}}', '{"WebSocketPush":[0,"Text"]}', read);
    }
    assert.throws(() => parseHttpResponse(enc('{"status":0200,"headers":{}}')));
    assert.throws(() => parseHttpResponse(enc('{"status":200,"headers":{}}}')));
    assert.throws(() => parseHttpServerAction(enc('{"WebSocketPush":{"channel_id":7,"message_type":"Binary"}} x'), 1));
  });

  it('login and RPC bodies', () => {
    assert.deepEqual(parseLoginInfo(enc('{"password":"pw"}')), { password: 'pw', passwordHash: undefined, subdomain: undefined });
    assert.deepEqual(parseLoginInfo(enc('{"password_hash":"0xab","subdomain":null}')), { password: undefined, passwordHash: '0xab', subdomain: undefined });
    assert.throws(() => parseLoginInfo(enc('{"subdomain":""}')));
    assert.throws(() => parseLoginInfo(enc('password=pw')));
    const rpc = parseRpcMessage(enc('{"process":"a:b:c","expects_response":5,"body":"hi","data":"AAE="}'));
    assert.equal(rpc.process, 'a:b:c');
    assert.equal(rpc.expectsResponse, 5n);
    assert.equal(rpc.node, undefined);
    assert.throws(() => parseRpcMessage(enc('{"node":"x"}')));
    assert.equal(
      dec(rpcResponseBody(new Uint8Array([1, 2]), { mime: undefined, bytes: enc('AQ==') })),
      '{"body":[1,2],"lazy_load_blob":{"mime":null,"bytes":[65,81,61,61]}}',
    );
    assert.equal(dec(rpcResponseBody(new Uint8Array(), undefined)), '{"body":[],"lazy_load_blob":null}');
  });
});

describe('msgpack extension envelope', () => {
  const head = (n: number) => `81b4${strHex('WebSocketExtPushData')}83a2${strHex('id')}`;
  const kind = (t: 'Request' | 'Response') => `b3${strHex('kinode_message_type')}${t === 'Request' ? 'a7' : 'a8'}${strHex(t)}a4${strHex('blob')}`;

  it('matches rmp_serde::to_vec_named byte for byte', () => {
    // id 5, Response, blob [1, 200, 127, 128]: fixint, "Response" fixstr, blob as fixarray of uints
    assert.equal(hex(encodeExtPushData(5n, 'Response', new Uint8Array([1, 200, 127, 128]))), `${head(0)}05${kind('Response')}9401ccc87fcc80`);
    // every integer width of the id, smallest unsigned form
    const ids: Array<[bigint, string]> = [
      [0n, '00'],
      [127n, '7f'],
      [128n, 'cc80'],
      [300n, 'cd012c'],
      [70000n, 'ce00011170'],
      [0xffffffffn, 'ceffffffff'],
      [0x100000000n, 'cf0000000100000000'],
      [0x7fffffffffffffffn, 'cf7fffffffffffffff'],
      [0xffffffffffffffffn, 'cfffffffffffffffff'],
    ];
    for (const [id, idHex] of ids) assert.equal(hex(encodeExtPushData(id, 'Request', new Uint8Array())), `${head(0)}${idHex}${kind('Request')}90`, String(id));
    // 16 elements and more: array16
    assert.equal(hex(encodeExtPushData(1n, 'Request', new Uint8Array(16).fill(9))), `${head(0)}01${kind('Request')}dc0010${'09'.repeat(16)}`);
    const big = new Uint8Array(70000);
    const out = encodeExtPushData(1n, 'Request', big);
    const prefix = `${head(0)}01${kind('Request')}dd00011170`;
    assert.equal(hex(out.subarray(0, prefix.length / 2)), prefix);
    assert.equal(out.length, prefix.length / 2 + 70000);
  });

  it('decodes envelopes leniently and everything else as raw', () => {
    const env = encodeExtPushData(0xdeadbeefcafen, 'Response', new Uint8Array([1, 2, 3]));
    assert.deepEqual(decodeExtFrame(env, 1), { kind: 'push-data', id: 0xdeadbeefcafen, kinodeMessageType: 'Response', blob: new Uint8Array([1, 2, 3]) });
    // struct as an array, blob as bin (what python's msgpack.packb(bytes) writes), trailing bytes ignored
    const alt = Buffer.from(`81b4${strHex('WebSocketExtPushData')}9303a7${strHex('Request')}c4020a0bc0`, 'hex');
    assert.deepEqual(decodeExtFrame(alt, 0), { kind: 'push-data', id: 3n, kinodeMessageType: 'Request', blob: new Uint8Array([10, 11]) });
    // another action decodes but is not delivered
    const close = Buffer.from(`81ae${strHex('WebSocketClose')}07`, 'hex');
    assert.equal(decodeExtFrame(close, 1).kind, 'other-action');
    // a msgpack string, text, garbage: raw
    assert.deepEqual(decodeExtFrame(Buffer.from('b1' + strHex('Hello from client'), 'hex'), 1), { kind: 'raw' });
    assert.deepEqual(decodeExtFrame(enc('hello'), 1), { kind: 'raw' });
    assert.deepEqual(decodeExtFrame(new Uint8Array([0xc1]), 1), { kind: 'raw' });
    assert.deepEqual(decodeExtFrame(new Uint8Array(), 1), { kind: 'raw' });
  });
});
