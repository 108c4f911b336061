// kit's tests.toml (kit src/run_tests/types.rs), read with smol-toml and checked field by field
// so a mistake is named. Paths are resolved as kit resolves them: `~/` from $HOME, anything
// else relative to the folder holding tests.toml.

import { existsSync, statSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'smol-toml';

export interface TestNode {
  port: number;
  home: string;
  fakeNodeName: string;
  password: string | undefined;
  runtimeVerbosity: number;
}

export interface TestGroup {
  dependencyPackagePaths: string[];
  setupPackages: Array<{ path: string; run: boolean }>;
  setupScripts: string[];
  testPackagePaths: string[];
  testScripts: string[];
  timeoutSecs: number;
  nodes: TestNode[];
}

export interface TestsConfig {
  file: string;
  persistHome: boolean;
  alwaysPrintNodeOutput: boolean;
  tests: TestGroup[];
}

export class TestsTomlError extends Error {}

/** kit's three places: the file itself, `<dir>/tests.toml`, `<dir>/test/tests.toml`. */
export function findTestsToml(path: string): string {
  if (existsSync(path) && statSync(path).isFile()) return resolve(path);
  for (const candidate of [join(path, 'tests.toml'), join(path, 'test', 'tests.toml')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return resolve(candidate);
  }
  throw new TestsTomlError(`could not find tests.toml within ${path} (looked for ${path}, ${path}/tests.toml, ${path}/test/tests.toml)`);
}

type Table = Record<string, unknown>;

function field<T>(t: Table, key: string, where: string, check: (v: unknown) => v is T, what: string, dflt?: T): T {
  const v = t[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (!check(v)) throw new TestsTomlError(`${where}.${key}: expected ${what}`);
  return v;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isInt = (v: unknown): v is number | bigint => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isTableList = (v: unknown): v is Table[] => Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));

export function loadTestsToml(path: string): TestsConfig {
  const file = findTestsToml(path);
  const base = dirname(file);
  const at = (p: string): string => (p.startsWith('~/') ? join(homedir(), p.slice(2)) : resolve(base, p));
  let doc: Table;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Table;
  } catch (e) {
    throw new TestsTomlError(`${file}: ${(e as Error).message}`);
  }
  const tests = field(doc, 'tests', file, isTableList, 'an array of [[tests]] tables');
  return {
    file,
    persistHome: field(doc, 'persist_home', file, isBool, 'true or false', false),
    alwaysPrintNodeOutput: field(doc, 'always_print_node_output', file, isBool, 'true or false', false),
    tests: tests.map((t, i) => {
      const where = `${file}: tests[${i}]`;
      const nodes = field(t, 'nodes', where, isTableList, 'an array of [[tests.nodes]] tables');
      if (nodes.length === 0) throw new TestsTomlError(`${where}.nodes: at least one node is needed`);
      return {
        dependencyPackagePaths: field(t, 'dependency_package_paths', where, isStrList, 'a list of paths', []).map(at),
        setupPackages: field(t, 'setup_packages', where, isTableList, 'a list of { path, run } tables', []).map((s, j) => ({
          path: at(field(s, 'path', `${where}.setup_packages[${j}]`, isStr, 'a path')),
          run: field(s, 'run', `${where}.setup_packages[${j}]`, isBool, 'true or false'),
        })),
        setupScripts: field(t, 'setup_scripts', where, isStrList, 'a list of commands', []),
        testPackagePaths: field(t, 'test_package_paths', where, isStrList, 'a list of paths').map(at),
        testScripts: field(t, 'test_scripts', where, isStrList, 'a list of commands', []),
        timeoutSecs: Number(field(t, 'timeout_secs', where, isInt, 'an integer')),
        nodes: nodes.map((n, j) => {
          const w = `${where}.nodes[${j}]`;
          return {
            port: Number(field(n, 'port', w, isInt, 'an integer')),
            home: at(field(n, 'home', w, isStr, 'a path')),
            fakeNodeName: field(n, 'fake_node_name', w, isStr, 'a name'),
            password: n.password === undefined ? undefined : field(n, 'password', w, isStr, 'a string'),
            runtimeVerbosity: n.runtime_verbosity === undefined ? 0 : Number(field(n, 'runtime_verbosity', w, isInt, 'an integer')),
          };
        }),
      };
    }),
  };
}
