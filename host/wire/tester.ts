// The runtime tester's wire (`tester:sys-v0` WIT, serde JSON, the same in both eras):
// Request `{"Run":{"input_node_names":[..],"test_names":[..],"test_timeout":N}}`;
// Response `{"Run":{"Ok":null}}` or `{"Run":{"Err":{"test","file","line","column"}}}`;
// and `capabilities.json` in the tests drive: `{"<test>":{"request_capabilities":[..],
// "grant_capabilities":[..]}}` (strings only, as the runtime's tester reads it).

import { asString, asU32, asUint, enumTag, needVal, parseJson, q, structFields, WireError, type Json } from './serde-json.js';

export interface RunRequest {
  inputNodeNames: string[];
  testNames: string[];
  testTimeout: number;
}

export interface FailResponse {
  test: string;
  file: string;
  line: number;
  column: number;
}

const strings = (v: Json, what: string): string[] => {
  if (v.k !== 'arr') throw new WireError(`${what}: expected a sequence`);
  return v.v.map((x, i) => asString(x, `${what}[${i}]`));
};

export function parseRunRequest(body: Uint8Array): RunRequest {
  const { tag, val } = enumTag(parseJson(body), 'Request');
  if (tag !== 'Run') throw new WireError(`unknown variant \`${tag}\`, expected \`Run\``);
  const f = structFields(needVal(val, 'Run'), 'RunRequest', ['input_node_names', 'test_names', 'test_timeout']);
  return {
    inputNodeNames: strings(f.get('input_node_names')!, 'input_node_names'),
    testNames: strings(f.get('test_names')!, 'test_names'),
    testTimeout: Number(asUint(f.get('test_timeout')!, 'test_timeout', 64)),
  };
}

export const runRequestBody = (r: RunRequest): string =>
  `{"Run":{"input_node_names":[${r.inputNodeNames.map(q).join(',')}],"test_names":[${r.testNames.map(q).join(',')}],"test_timeout":${r.testTimeout}}}`;

/** undefined = Ok */
export function parseRunResponse(body: Uint8Array): FailResponse | undefined {
  const { tag, val } = enumTag(parseJson(body), 'Response');
  if (tag !== 'Run') throw new WireError(`unknown variant \`${tag}\`, expected \`Run\``);
  const result = enumTag(needVal(val, 'Run'), 'Result');
  if (result.tag === 'Ok') return undefined;
  if (result.tag !== 'Err') throw new WireError(`Result: unknown variant \`${result.tag}\``);
  const f = structFields(needVal(result.val, 'Err'), 'FailResponse', ['test', 'file', 'line', 'column']);
  return {
    test: asString(f.get('test')!, 'test'),
    file: asString(f.get('file')!, 'file'),
    line: asU32(f.get('line')!, 'line'),
    column: asU32(f.get('column')!, 'column'),
  };
}

export const runOk = (): string => '{"Run":{"Ok":null}}';
export const runErr = (f: FailResponse): string =>
  `{"Run":{"Err":{"test":${q(f.test)},"file":${q(f.file)},"line":${f.line},"column":${f.column}}}}`;

export interface TestCaps {
  requestCapabilities: string[];
  grantCapabilities: string[];
}

/** capabilities.json; throws WireError (the runtime's tester fails the run on a bad file). */
export function parseCapabilitiesJson(bytes: Uint8Array): Map<string, TestCaps> {
  const v = parseJson(bytes);
  if (v.k !== 'obj') throw new WireError('capabilities.json: expected a map of test name -> capabilities');
  const out = new Map<string, TestCaps>();
  for (const [name, entry] of v.v) {
    const f = structFields(entry, `capabilities.json: ${name}`, ['request_capabilities', 'grant_capabilities']);
    out.set(name, {
      requestCapabilities: strings(f.get('request_capabilities')!, `${name}.request_capabilities`),
      grantCapabilities: strings(f.get('grant_capabilities')!, `${name}.grant_capabilities`),
    });
  }
  return out;
}
