// Edits to jco's generated glue (component.mjs) made once, when it is written to the cache.
//
// 1. jco's debug logger reads process.env on every call; the host never sets JCO_DEBUG, so the
//    check becomes a constant.
// 2. A sync fast path for host imports. For the component-model async ABI, jco wraps every
//    import call in task bookkeeping: the lowering creates a subtask, the trampoline a new
//    AsyncTask, and the call runs under a swapped "current task" — about a quarter of a process
//    worker's time per message (measured with --cpu-prof). Kinode's imports are all sync, so
//    for imports whose options say sync-lowered and sync-typed the wrapper is dropped and the
//    trampoline runs with an inert task object; what it does with the guest's memory (lifting
//    arguments, lowering results, traps) is unchanged. Applied only when every import has the
//    exact shape recognised below; otherwise the glue is left as jco wrote it.
// 3. With 2, the calls of `kinode:process/standard` imports lose their `_trackHostOperation`
//    closure, which only tracks a promise result: ProcessHost's imports never return one.
// 4. With 2, cheaper guest-memory access in the lifting and lowering (glue-lift.ts): a kept
//    DataView, cached short strings, small lists copied without a new ArrayBuffer each.

import { Script } from 'node:vm';
import { asScript } from './glue-script.js';
import { patchGlueMemory } from './glue-lift.js';
import { matchClose, trampolineSpans } from './glue-text.js';

const DEBUG_CHECK = 'if (!globalThis?.process?.env?.JCO_DEBUG) { return; }';

const INERT_TASK =
  '\nconst _khInertTask = { enterSync: () => true, resolve() {}, exit() {}, reject() {}, setErrored() {}, ' +
  'id: () => 0, componentIdx: () => -1, getParentSubtask: () => undefined };\n';

/** Replace each match of `find` with what `edit` makes of the span it returns; -1 on a mismatch. */
function rewriteAll(src: string, find: RegExp, edit: (src: string, at: number, m: RegExpExecArray) => { end: number; text: string } | undefined): { src: string; count: number } | undefined {
  let out = '';
  let last = 0;
  let count = 0;
  for (let m = find.exec(src); m; m = find.exec(src)) {
    const r = edit(src, m.index, m);
    if (!r) return undefined;
    out += src.slice(last, m.index) + r.text;
    last = r.end;
    find.lastIndex = r.end;
    count++;
  }
  return { src: out + src.slice(last), count };
}

function syncFastPath(js: string): string | undefined {
  const trampolines = js.split('const hostProvided = true;').length - 1;
  if (trampolines === 0) return undefined;

  // (a) trampolines: the task set-up block becomes the inert task
  const a = rewriteAll(js, /\n(\s*)taskCreation: \{/g, (src, at, m) => {
    const open = src.indexOf('{', at + 1);
    const end = matchClose(src, open);
    if (end < 0) return undefined;
    const block = src.slice(at, end);
    if (!block.includes('parentTask.getLatestSubtask()') || !block.includes('createTask();')) return undefined;
    return { end, text: `\n${m[1]}task = _khInertTask;` };
  });
  if (!a || a.count !== trampolines) return undefined;

  // (b) the host call no longer swaps the current-task record
  const b = rewriteAll(a.src, /_withGlobalCurrentTaskMeta\(\{\s*componentIdx: task\.componentIdx\(\),\s*taskID: task\.id\(\),\s*fn: \(\) => (?=_trackHostOperation\()/g, (src, at, m) => {
    const callStart = at + m[0].length;
    const callEnd = matchClose(src, src.indexOf('(', callStart));
    if (callEnd < 0) return undefined;
    const tail = /^,\s*\}\)/.exec(src.slice(callEnd));
    if (!tail) return undefined;
    return { end: callEnd + tail[0].length, text: src.slice(callStart, callEnd) };
  });
  if (!b || b.count !== trampolines) return undefined;

  // (c) the import itself is the trampoline, without the lowering wrapper
  const c = rewriteAll(b.src, /let trampoline(\d+) = _trampoline\1\.manuallyAsync \? /g, (src, at, m) => {
    const n = m[1]!;
    const alt = src.indexOf(': _lowerImportBackwardsCompat.bind(', at);
    if (alt < 0) return undefined;
    const end = matchClose(src, src.indexOf('(', alt));
    if (end < 0 || src[end] !== ';') return undefined;
    const opts = src.slice(alt, end);
    if (!opts.includes('isAsync: false,') || !opts.includes('funcTypeIsAsync: false,') || !opts.includes(`importFn: _trampoline${n},`)) return undefined;
    return { end: end + 1, text: `let trampoline${n} = _trampoline${n};` };
  });
  if (!c || c.count !== trampolines) return undefined;

  const at = c.src.indexOf('\nexport function instantiate(');
  if (at < 0) return undefined;
  return c.src.slice(0, at) + INERT_TASK + c.src.slice(at);
}

const TRACK = '_trackHostOperation(() => ';
const STANDARD_MARK = /_trampoline\d+\.fnName = 'kinode:process\/standard@/;

/** Edit 3: each standard import called directly; undefined when a call is not of the expected shape. */
function directStandardCalls(js: string): string | undefined {
  let out = '';
  let last = 0;
  for (const [start, end] of trampolineSpans(js)) {
    const body = js.slice(start, end);
    if (!STANDARD_MARK.test(body)) continue;
    const at = body.indexOf(TRACK);
    if (at < 0 || body.indexOf(TRACK, at + 1) >= 0) return undefined;
    const close = matchClose(body, at + TRACK.length - 7);
    if (close < 0) return undefined;
    const call = body.slice(at + TRACK.length, close - 1);
    out += js.slice(last, start) + body.slice(0, at) + `(${call})` + body.slice(close);
    last = end;
  }
  return out + js.slice(last);
}

/** True when the text still parses (checked through the script form the workers load). */
function parses(js: string): boolean {
  const script = asScript(js);
  if (script === undefined) return false;
  try {
    new Script(script);
    return true;
  } catch {
    return false;
  }
}

export function patchGlue(js: string): string {
  const quiet = js.replace(DEBUG_CHECK, 'return;');
  const sync = syncFastPath(quiet);
  const direct = sync === undefined ? undefined : directStandardCalls(sync);
  const memory = direct === undefined ? undefined : patchGlueMemory(direct);
  // an edit that broke the syntax would stop every start of this component: keep jco's text then
  for (const js of [memory, direct, sync]) if (js !== undefined && parses(js)) return js;
  return quiet;
}
