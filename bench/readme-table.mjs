// Copies the summary table and machine line of bench/results.md into README.md between the
// bench markers (run after `npm run bench`).
import { readFileSync, writeFileSync } from 'node:fs';
const results = readFileSync(new URL('./results.md', import.meta.url), 'utf8');
const machine = results.split('\n').find((l) => l.startsWith('**Machine:**')) ?? '';
const table = results.split('\n').filter((l) => l.startsWith('|')).join('\n');
const readmeUrl = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeUrl, 'utf8');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const updated = readme.replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\n${machine}\n\n${table}\n${end}`);
writeFileSync(readmeUrl, updated);
