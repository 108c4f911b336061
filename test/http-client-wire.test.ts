// http-client wire shapes: serde_json's reading of HttpClientAction and the exact bytes of
// replies and notices in both generations.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorBody,
  okAck,
  okHttp,
  parseHttpClientAction,
  parseJson,
  readClientReply,
  wsCloseRequest,
  wsPushRequest,
  WireError,
  type ClientError,
} from '../host/wire/http-client.js';
import { pascalCase, requestHeaders, responseHeaders } from '../host/modules/http-client/http-request.js';
import { enc, dec } from './helpers.js';

const parse = (s: string) => parseHttpClientAction(enc(s));
const rejects = (s: string | Uint8Array) =>
  assert.throws(() => parseHttpClientAction(typeof s === 'string' ? enc(s) : s), WireError, String(s));

describe('http-client wire: reading actions', () => {
  it('reads the four actions as process_lib writes them', () => {
    assert.deepEqual(parse('{"Http":{"method":"GET","version":null,"url":"http://127.0.0.1/x","headers":{"Accept":"*/*"}}}'), {
      tag: 'Http',
      req: { method: 'GET', version: undefined, url: 'http://127.0.0.1/x', headers: [['Accept', '*/*']] },
    });
    assert.deepEqual(parse('{"WebSocketOpen":{"url":"ws://localhost:8765","headers":{},"channel_id":0}}'), {
      tag: 'WebSocketOpen',
      url: 'ws://localhost:8765',
      headers: [],
      channelId: 0,
    });
    assert.deepEqual(parse('{"WebSocketPush":{"channel_id":4294967295,"message_type":"Binary"}}'), {
      tag: 'WebSocketPush',
      channelId: 4294967295,
      messageType: 'Binary',
    });
    assert.deepEqual(parse('{"WebSocketClose":{"channel_id":3}}'), { tag: 'WebSocketClose', channelId: 3 });
  });

  it('follows serde: missing Option is None, extra fields ignored, sequence form, whitespace', () => {
    assert.equal((parse('{"Http":{"method":"GET","url":"u","headers":{}}}') as { req: { version?: string } }).req.version, undefined);
    assert.deepEqual(parse('{"WebSocketClose":{"channel_id":1,"extra":[1,{"a":null}]}}'), { tag: 'WebSocketClose', channelId: 1 });
    assert.deepEqual(parse(' { "WebSocketClose" : [ 2 ] } \n'), { tag: 'WebSocketClose', channelId: 2 });
    assert.deepEqual(parse('{"Http":["PATCH","HTTP/1.1","u",{}]}'), {
      tag: 'Http',
      req: { method: 'PATCH', version: 'HTTP/1.1', url: 'u', headers: [] },
    });
    // unit variant of WsMessageType also as {"Text": null}
    assert.deepEqual(parse('{"WebSocketPush":{"channel_id":1,"message_type":{"Text":null}}}'), {
      tag: 'WebSocketPush',
      channelId: 1,
      messageType: 'Text',
    });
    // later duplicate map keys win (HashMap), escapes decode
    assert.deepEqual(
      (parse('{"Http":{"method":"GET","url":"u","headers":{"a":"1","a":"2","b":"\\u00e9\\ud83d\\ude00"}}}') as { req: { headers: unknown } }).req
        .headers,
      [
        ['a', '2'],
        ['b', '\u00e9\u{1f600}'],
      ],
    );
    assert.deepEqual(parse('{"WebSocketClose":{"channel_id":-0}}'), { tag: 'WebSocketClose', channelId: 0 });
  });

  it('rejects what serde_json rejects', () => {
    rejects('');
    rejects('null');
    rejects('"Http"'); // newtype variant given as a unit
    rejects('{}');
    rejects('{"Nope":{}}');
    rejects('{"WebSocketClose":{"channel_id":1},"Http":{}}'); // two keys
    rejects('{"WebSocketClose":{}}'); // missing field
    rejects('{"WebSocketClose":{"channel_id":1,"channel_id":2}}'); // duplicate field
    rejects('{"WebSocketClose":{"channel_id":1.0}}');
    rejects('{"WebSocketClose":{"channel_id":1e2}}');
    rejects('{"WebSocketClose":{"channel_id":-1}}');
    rejects('{"WebSocketClose":{"channel_id":4294967296}}');
    rejects('{"WebSocketClose":{"channel_id":"1"}}');
    rejects('{"WebSocketClose":{"channel_id":01}}');
    rejects('{"WebSocketClose":[1,2]}');
    rejects('{"WebSocketPush":{"channel_id":1,"message_type":"text"}}');
    rejects('{"WebSocketOpen":{"url":"u","headers":{"a":1},"channel_id":1}}');
    rejects('{"Http":{"method":"GET","url":"u","headers":{},}}'); // trailing comma
    rejects('{"Http":{"method":"GET","url":"u","headers":{}}} x'); // trailing characters
    rejects('{"Http":{"method":"GET","url":"\\ud800","headers":{}}}'); // lone surrogate
    rejects('{"Http":{"method":"GET","url":"a\tb","headers":{}}}'); // raw control character
    rejects(new Uint8Array([...enc('{"Http":{"method":"'), 0xff, ...enc('","url":"u","headers":{}}}')])); // invalid UTF-8
    rejects('['.repeat(200) + ']'.repeat(200));
  });

  it('keeps number lexemes apart', () => {
    assert.deepEqual(parseJson(enc('[1, 1.0, -0, 2e3]')), {
      k: 'arr',
      v: [
        { k: 'num', raw: '1' },
        { k: 'num', raw: '1.0' },
        { k: 'num', raw: '-0' },
        { k: 'num', raw: '2e3' },
      ],
    });
  });
});

describe('http-client wire: replies and notices', () => {
  it('success bodies', () => {
    assert.equal(
      dec(okHttp(200, [['Content-Type', 'text/plain; charset=utf-8'], ['X-A', '"q"']])),
      '{"Ok":{"Http":{"status":200,"headers":{"Content-Type":"text/plain; charset=utf-8","X-A":"\\"q\\""}}}}',
    );
    assert.equal(dec(okAck()), '{"Ok":"WebSocketAck"}');
    assert.equal(dec(wsPushRequest(0, 'Text')), '{"WebSocketPush":{"channel_id":0,"message_type":"Text"}}');
    assert.equal(dec(wsCloseRequest(9)), '{"WebSocketClose":{"channel_id":9}}');
    assert.deepEqual(readClientReply(okAck()), { ok: true, ack: true });
  });

  const cases: Array<[ClientError, string, string]> = [
    [{ kind: 'malformed', body: enc('{"x":1}') }, '{"BadRequest":{"req":"{\\"x\\":1}"}}', '"MalformedRequest"'],
    [{ kind: 'malformed', body: new Uint8Array([0xff]) }, '{"BadRequest":{"req":""}}', '"MalformedRequest"'],
    [{ kind: 'bad-method', method: 'G T' }, '{"BadMethod":{"method":"G T"}}', '{"BadMethod":{"method":"G T"}}'],
    [{ kind: 'bad-url', url: 'nope' }, '{"BadUrl":{"url":"nope"}}', '{"BadUrl":{"url":"nope"}}'],
    [{ kind: 'bad-version', version: 'HTTP/9' }, '{"BadVersion":{"version":"HTTP/9"}}', '{"BadVersion":{"version":"HTTP/9"}}'],
    [
      { kind: 'build-failed', text: 'builder error for url (mailto:x)' },
      '{"RequestFailed":{"error":"failed to build request"}}',
      '{"BuildRequestFailed":"builder error for url (mailto:x)"}',
    ],
    [
      { kind: 'execute-failed', text: 'error sending request for url (http://127.0.0.1:1/)' },
      '{"RequestFailed":{"error":"error sending request for url (http://127.0.0.1:1/)"}}',
      '{"ExecuteRequestFailed":"error sending request for url (http://127.0.0.1:1/)"}',
    ],
    [{ kind: 'ws-open-failed', url: 'ws://h/' }, '{"WsOpenFailed":{"url":"ws://h/"}}', '{"WsOpenFailed":{"url":"ws://h/"}}'],
    [
      { kind: 'ws-bad-request', url: 'mailto:x' },
      '{"BadRequest":{"req":"failed to parse url into client request"}}',
      '{"WsOpenFailed":{"url":"mailto:x"}}',
    ],
    [
      { kind: 'ws-push-unknown-channel', channelId: 5 },
      '{"WsPushFailed":{"req":"channel_id 5 not found"}}',
      '{"WsPushUnknownChannel":{"channel_id":5}}',
    ],
    [{ kind: 'ws-push-no-blob' }, '{"WsPushFailed":{"req":"no blob"}}', '"WsPushNoBlob"'],
    [{ kind: 'ws-push-bad-text' }, '{"WsPushFailed":{"req":"failed to convert blob to string"}}', '"WsPushBadText"'],
    [{ kind: 'ws-close-failed', channelId: 2 }, '{"WsCloseFailed":{"channel_id":2}}', '{"WsCloseFailed":{"channel_id":2}}'],
  ];
  for (const [e, v0, v1] of cases) {
    it(`error ${e.kind} in both enums`, () => {
      assert.equal(dec(errorBody(e, 0)), `{"Err":${v0}}`);
      assert.equal(dec(errorBody(e, 1)), `{"Err":${v1}}`);
      assert.deepEqual(readClientReply(errorBody(e, 1)), { ok: false, err: JSON.parse(v1) });
    });
  }
});

describe('http-client headers', () => {
  it('Pascal-Cases response header names word by word; last duplicate wins; non-visible-ASCII values are empty', () => {
    assert.equal(pascalCase('content-type'), 'Content-Type');
    assert.equal(pascalCase('x-foo_bar--baz'), 'X-Foo_bar--Baz');
    assert.equal(pascalCase('www-authenticate'), 'Www-Authenticate');
    assert.deepEqual(responseHeaders(['X-Dup', 'a', 'content-type', 'text/plain', 'x-dup', 'b', 'X-Latin', 'caf\u00e9', 'X-Tab', 'a\tb']), [
      ['X-Dup', 'b'],
      ['Content-Type', 'text/plain'],
      ['X-Latin', ''],
      ['X-Tab', 'a\tb'],
    ]);
  });

  it('skips invalid request headers and folds names to lower case', () => {
    assert.deepEqual(
      [
        ...requestHeaders([
          ['X-A', '1'],
          ['x-a', '2'],
          ['bad name', 'v'],
          ['X-Ctl', 'a\nb'],
          ['X-Utf8', 'caf\u00e9'],
          ['Content-Length', '5'],
          ['Connection', 'upgrade'],
          ['Connection', 'close'],
        ]),
      ],
      [
        ['x-a', '2'],
        ['x-utf8', 'caf\u00e9'],
        ['connection', 'close'],
      ],
    );
  });
});
