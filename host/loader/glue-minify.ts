// The glue's script form as process workers load it, without whitespace and comments. Every
// process start reads the script into a fresh worker (file buffer, then a V8 string): on this
// host's virtual machines the fresh pages, not the bytes, are what that costs, ~20-50 us per
// page fault under load. jco's glue for a Rust component is 295 KB, 190 KB printed compactly;
// reading it took 5.5-6.6 ms of the worker's CPU per start, 3.5-3.8 ms compact (docs/performance.md,
// "Rust start"). Only the printing changes (oxc's code generator: no renaming, no compression),
// so the code is the code jco wrote and the glue patch checked. oxc-minify comes with
// @bytecodealliance/jco-transpile (its own `minify` option uses it, on the unpatched module);
// without it the script is kept as it is.

type Minify = (file: string, code: string, opts: object) => Promise<{ code: string; errors: unknown[] }> | { code: string; errors: unknown[] };

let minifier: Promise<Minify | undefined> | undefined;

function loadMinifier(): Promise<Minify | undefined> {
  minifier ??= import('oxc-minify').then(
    (m) => m.minify as unknown as Minify,
    () => undefined,
  );
  return minifier;
}

/** `script` printed without whitespace and comments; `script` itself when that is not possible. */
export async function compactScript(script: string): Promise<string> {
  const minify = await loadMinifier();
  if (!minify) return script;
  try {
    const r = await minify('component.js', script, { compress: false, mangle: false, codegen: { removeWhitespace: true } });
    // a script that does not print back to one expression is kept as jco wrote it
    if (r.errors.length > 0 || !r.code.startsWith('(function')) return script;
    return r.code;
  } catch {
    return script;
  }
}
