// jco's instantiation-mode glue (an ES module with no imports and two exports) as a classic
// script that evaluates to a function returning those exports: the form process workers load
// (with V8's code cache, see process/glue-loader.ts) and the glue patch checks its edits against.

const INSTANTIATE = '\nexport function instantiate(';
const UTIL = '\nexport const _util = {';

/** The glue as a script evaluating to its exports, or undefined if it has another shape. */
export function asScript(src: string): string | undefined {
  // jco's instantiation-mode output: no imports, exactly these two exports
  if (src.split('\nexport ').length !== 3 || !src.includes(INSTANTIATE) || !src.includes(UTIL)) return undefined;
  if (/^\s*import[\s{*]/m.test(src) || src.includes('import.meta')) return undefined;
  const body = src.replace(INSTANTIATE, '\nfunction instantiate(').replace(UTIL, '\nconst _util = {');
  // modules are strict; the wrapper keeps the glue's names out of the worker's global scope
  return `(function () {\n"use strict";\n${body}\nreturn { instantiate, _util };\n})`;
}
