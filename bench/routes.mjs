// Route lookup cost with many bindings (issue 11.5): one process holds N routes, requests go to
// another process's path. Run after `npm run build`:
//   node bench/routes.mjs [N] [module path of a RouteTable to compare, e.g. an older build]
// Prints the mean lookup time per table and N. Not a test: no thresholds.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const N = Number(process.argv[2] ?? 50000);
const tables = { current: resolve('dist/host/modules/http-server/routes.js') };
if (process.argv[3]) tables.other = resolve(process.argv[3]);

function measure(RouteTable, n) {
  const t = new RouteTable();
  t.add('/other:app:sys', 'other-root');
  t.add('/other:app:sys/api/:id', 'other-api');
  for (let i = 0; i < n; i++) t.add(`/hog:hog:sys/r${i}/:id`, i);
  const paths = ['/other:app:sys/api/7', '/other:app:sys', '/other:app:sys/missing'];
  let sink = 0;
  for (let i = 0; i < (n >= 10000 ? 20 : 3000); i++) sink += t.recognize(paths[i % 3]) ? 1 : 0; // warm-up
  const rounds = n >= 10000 ? 200 : 20000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) sink += t.recognize(paths[i % 3]) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0) / rounds;
  return { ns, sink };
}

for (const [name, file] of Object.entries(tables)) {
  const { RouteTable } = await import(pathToFileURL(file).href);
  for (const n of [0, 1000, N]) {
    const { ns } = measure(RouteTable, n);
    console.log(`${name.padEnd(8)} ${String(n).padStart(6)} bindings of another process: ${(ns / 1000).toFixed(2)} µs per lookup`);
  }
}
