// jco's instantiation-mode glue (an ES module with no imports and two exports) as a classic
// script that evaluates to a function returning those exports: the form process workers load
// (with V8's code cache, see process/glue-loader.ts) and the glue patch checks its edits against.
// Every process start runs this on its ~0.3-0.4 MB glue in a fresh worker, so it scans with
// indexOf and builds the result from slices (a multiline regex and two replace() over the
// whole text cost several milliseconds per start).

const EXPORT = '\nexport ';
const INSTANTIATE = '\nexport function instantiate(';
const UTIL = '\nexport const _util = {';

/** Non-overlapping occurrences of `needle`, counting up to `stop`. */
function count(src: string, needle: string, stop: number): number {
  let n = 0;
  for (let at = src.indexOf(needle); at >= 0 && n < stop; at = src.indexOf(needle, at + needle.length)) n++;
  return n;
}

const WHITESPACE = /\s/;
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;
const AFTER_IMPORT = /[\s{*]/;

/** Whether some line starts with optional whitespace then `import` and a space, `{` or `*` (as /^\s*import[\s{*]/m). */
function hasImportStatement(src: string): boolean {
  for (let at = src.indexOf('import'); at >= 0; at = src.indexOf('import', at + 1)) {
    const next = src[at + 6];
    if (next === undefined || !AFTER_IMPORT.test(next)) continue;
    // back over whitespace (which includes line ends, as \s* does): a line start in it, or the text's start
    let i = at - 1;
    for (; i >= 0 && WHITESPACE.test(src[i]!); i--) if (LINE_TERMINATOR.test(src[i]!)) return true;
    if (i < 0) return true;
  }
  return false;
}

/** The glue as a script evaluating to its exports, or undefined if it has another shape. */
export function asScript(src: string): string | undefined {
  // jco's instantiation-mode output: no imports, exactly these two exports
  const instantiateAt = src.indexOf(INSTANTIATE);
  const utilAt = src.indexOf(UTIL);
  if (count(src, EXPORT, 3) !== 2 || instantiateAt < 0 || utilAt < 0) return undefined;
  if (hasImportStatement(src) || src.includes('import.meta')) return undefined;
  // the two exports are the two occurrences of EXPORT: each loses its `export `
  const [first, second] = instantiateAt < utilAt ? [instantiateAt, utilAt] : [utilAt, instantiateAt];
  const cut = EXPORT.length - 1; // keep the '\n'
  const body = `${src.slice(0, first + 1)}${src.slice(first + 1 + cut, second + 1)}${src.slice(second + 1 + cut)}`;
  // modules are strict; the wrapper keeps the glue's names out of the worker's global scope
  return `(function () {\n"use strict";\n${body}\nreturn { instantiate, _util };\n})`;
}
