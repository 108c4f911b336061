// Text helpers for the edits made to jco's glue (glue-patch.ts, glue-lift.ts): bracket matching
// and where each import trampoline starts and ends.

/** Index just past the bracket that closes the one at `open` (skips string literals). */
export function matchClose(src: string, open: number): number {
  const pairs: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
  const stack: string[] = [];
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      continue;
    }
    if (pairs[c]) stack.push(pairs[c]!);
    else if (c === ')' || c === '}' || c === ']') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/** The trampolines of the glue, each [start, end) (end = its `fnName` line's end). */
export function trampolineSpans(js: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const re = /\n\s*const _trampoline(\d+) = function\(/g;
  for (let m = re.exec(js); m; m = re.exec(js)) {
    const mark = `_trampoline${m[1]}.fnName = `;
    const at = js.indexOf(mark, m.index);
    if (at < 0) continue;
    spans.push([m.index, js.indexOf('\n', at)]);
  }
  return spans;
}

