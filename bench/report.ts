// The benchmark's output: rows of per-round values reduced to medians and host/raw ratios,
// rendered as a text table (stdout), a Markdown page (bench/results.md) and an SVG bar chart
// of the throughput ratios (bench/results.svg).

import { cpus, totalmem, release, platform, arch, availableParallelism } from 'node:os';
import { fmt, median } from './common.js';

export type Target =
  | { kind: 'ratio-min'; value: number } // host/raw at least
  | { kind: 'ratio-max'; value: number } // host/raw at most
  | { kind: 'abs-min'; value: number } // host value at least
  | { kind: 'abs-max'; value: number }; // host value at most

export interface Row {
  section: string;
  name: string;
  metric: string;
  better: 'higher' | 'lower';
  host: number[];
  raw: number[];
  target?: Target;
  /** shown in the chart (throughput rows) under this short label */
  chart?: string;
  /** the section or row could not be measured: why */
  unavailable?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: typeof availableParallelism === 'function' ? availableParallelism() : c.length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

export const machineLine = (m: Machine): string =>
  `${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB RAM, Node ${m.node}, ${m.os}, ${m.date}`;

interface Reduced {
  host: number;
  raw: number;
  ratio: number;
  targetText: string;
  met: boolean | undefined;
}

function reduce(r: Row): Reduced {
  const host = median(r.host);
  const raw = median(r.raw);
  const ratio = raw > 0 && Number.isFinite(host) ? host / raw : NaN;
  let targetText = '';
  let met: boolean | undefined;
  const t = r.target;
  if (t && !r.unavailable) {
    if (t.kind === 'ratio-min') {
      targetText = `≥ ${Math.round(t.value * 100)} % of raw`;
      met = Number.isFinite(ratio) ? ratio >= t.value : undefined;
    } else if (t.kind === 'ratio-max') {
      targetText = `≤ ${t.value}× raw`;
      met = Number.isFinite(ratio) ? ratio <= t.value : undefined;
    } else if (t.kind === 'abs-min') {
      targetText = `≥ ${fmt(t.value)} ${r.metric}`;
      met = Number.isFinite(host) ? host >= t.value : undefined;
    } else {
      targetText = `< ${fmt(t.value)} ${r.metric}`;
      met = Number.isFinite(host) ? host < t.value : undefined;
    }
  }
  return { host, raw, ratio, targetText, met };
}

const ratioText = (x: number): string => (Number.isFinite(x) ? (x >= 10 ? `${x.toFixed(0)}×` : x >= 0.995 ? `${x.toFixed(2)}×` : `${(x * 100).toFixed(1)} %`) : '—');
const metText = (m: boolean | undefined): string => (m === undefined ? '' : m ? 'yes' : 'NO');

function cells(r: Row): string[] {
  if (r.unavailable) return [r.section, r.name, r.metric, 'not available', '', '', '', r.unavailable];
  const d = reduce(r);
  return [r.section, r.name, r.metric, fmt(d.host), r.raw.length ? fmt(d.raw) : '—', r.raw.length ? ratioText(d.ratio) : '—', d.targetText, metText(d.met)];
}

const HEAD = ['section', 'case', 'metric', 'host (median)', 'raw (median)', 'host/raw', 'target', 'met'];

export function textTable(rows: Row[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.min(60, Math.max(...all.map((c) => (c[i] ?? '').length))));
  const line = (c: string[]) => c.map((x, i) => (i >= 3 && i <= 5 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

export function markdownTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i >= 3 && i <= 5 ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${cells(r).map(esc).join(' | ')} |`);
  return out.join('\n');
}

/** per-round values, for the record */
export function roundsText(rows: Row[]): string {
  return rows
    .filter((r) => !r.unavailable)
    .map((r) => `${r.section} / ${r.name} / ${r.metric}: host [${r.host.map((x) => fmt(x)).join(', ')}]` + (r.raw.length ? `, raw [${r.raw.map((x) => fmt(x)).join(', ')}]` : ''))
    .join('\n');
}

// ---------------------------------------------------------------- chart

const xmlEsc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars: host throughput as % of raw, with the 60 % target and the 100 % line. */
export function svgChart(rows: Row[], m: Machine): string {
  const bars = rows.filter((r) => r.chart);
  const labelW = 330;
  const plotW = 420;
  const rowH = 26;
  const top = 74;
  const width = labelW + plotW + 90;
  const height = top + bars.length * rowH + 64;
  const ratios = bars.map((r) => (r.unavailable ? NaN : reduce(r).ratio));
  const maxPct = Math.max(100, ...ratios.filter(Number.isFinite).map((x) => x * 100));
  const scale = Math.ceil(maxPct / 20) * 20;
  const x = (pct: number) => labelW + (Math.min(pct, scale) / scale) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="20" font-size="15" font-weight="bold">kinode-host throughput as % of raw Node (median of rounds)</text>`);
  out.push(`<text x="12" y="38" fill="#555">${xmlEsc(machineLine(m))}</text>`);
  for (let pct = 0; pct <= scale; pct += 20) {
    out.push(`<line x1="${x(pct)}" y1="${top - 6}" x2="${x(pct)}" y2="${top + bars.length * rowH}" stroke="#eee"/>`);
    out.push(`<text x="${x(pct)}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#555">${pct} %</text>`);
  }
  bars.forEach((r, i) => {
    const y = top + i * rowH;
    const ratio = ratios[i]!;
    const label = `${r.chart} (${r.metric})`;
    out.push(`<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${xmlEsc(label)}</text>`);
    if (!Number.isFinite(ratio)) {
      out.push(`<text x="${labelW + 6}" y="${y + rowH / 2 + 4}" fill="#999">not available</text>`);
      return;
    }
    const pct = ratio * 100;
    const color = pct >= 60 ? '#3a8f4b' : '#c9493b';
    out.push(`<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(pct) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`);
    out.push(`<text x="${x(pct) + 5}" y="${y + rowH / 2 + 4}">${pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)} %</text>`);
  });
  const y0 = top - 8;
  const y1 = top + bars.length * rowH;
  out.push(`<line x1="${x(60)}" y1="${y0}" x2="${x(60)}" y2="${y1}" stroke="#d08000" stroke-width="2" stroke-dasharray="6,4"/>`);
  out.push(`<text x="${x(60)}" y="${y0 - 2}" text-anchor="middle" fill="#d08000">60 % target</text>`);
  out.push(`<line x1="${x(100)}" y1="${y0}" x2="${x(100)}" y2="${y1}" stroke="#333" stroke-width="1"/>`);
  out.push(`<text x="12" y="${height - 24}" fill="#555">Green: at or above 60 % of raw Node; red: below. Raw = node:http / ws / Node's fetch; for local messaging,</text>`);
  out.push(`<text x="12" y="${height - 8}" fill="#555">two worker_threads over a MessagePort. Full table, targets and notes: bench/results.md.</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function markdown(rows: Row[], notes: string[], m: Machine, elapsedS: number): string {
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts). kinode-host against raw Node doing the same work, each pair run',
    'side by side and alternating; values are medians of the rounds, ratios are host/raw.',
    '',
    `**Machine:** ${machineLine(m)}. Run took ${elapsedS.toFixed(0)} s.`,
    '',
    markdownTable(rows),
    '',
    '![host throughput as % of raw Node](results.svg)',
    '',
    '## Notes',
    '',
    ...notes.map((n) => `* ${n}`),
    '',
    '## Per-round values',
    '',
    '```',
    roundsText(rows),
    '```',
    '',
  ].join('\n');
}
