#!/usr/bin/env node
// Compile the TypeScript (tsc -> dist/) only when the sources changed since the last build:
// the SHA-256 of every source file's path and bytes is kept in dist/.sources-sha256.
//
//   node scripts/build.mjs            compile if a source changed (prints why and how long)
//   node scripts/build.mjs --force    always compile

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorker } from './bundle-worker.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const STAMP = join(ROOT, 'dist', '.sources-sha256');
const SOURCE_DIRS = ['host', 'test', 'bench'];
const EXTRA = ['tsconfig.json', 'package-lock.json'];

function sources() {
  const out = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  for (const f of EXTRA) if (existsSync(join(ROOT, f))) out.push(join(ROOT, f));
  return out.sort();
}

function digest(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

const force = process.argv.includes('--force');
const files = sources();
const now = digest(files);
const before = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
if (!force && now === before && existsSync(join(ROOT, 'dist', 'host', 'cli', 'main.js'))) {
  console.log('build: TypeScript up to date (dist/)');
  const b = await bundleWorker(ROOT);
  if (b !== 'up to date') console.log(`build: process worker bundle: ${b}`);
  process.exit(0);
}
console.log(`build: compiling ${files.length} TypeScript sources (${before ? 'sources changed' : 'no previous build'}; about 15-40 s)...`);
const started = Date.now();
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build: tsc failed');
  process.exit(r.status ?? 1);
}
mkdirSync(dirname(STAMP), { recursive: true });
writeFileSync(STAMP, `${now}\n`);
console.log(`build: process worker bundle: ${await bundleWorker(ROOT)}`);
console.log(`build: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
