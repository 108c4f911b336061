// The start page at `/` (behind login): the node's apps as cards (icon, label, link to their
// UI), widgets in sandboxed iframes, and a live view of the node (processes, bound paths,
// recent messages). One renderer, in the page: the HTML carries the current snapshot and the
// page then follows the live feed over the docs' WebSocket API (connect to `/`, send
// WsRegister with the `kinode-auth_<node>` cookie's token and target homepage:homepage:sys).
// Everything from processes (labels, paths, ids) is put in the page as text, never as HTML;
// icons are used as <img src> only when they are data: URLs or same-origin paths.

import type { Snapshot } from './live.js';

/** JSON safe inside <script> (no `</script>`, no U+2028/9 surprises) */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
:root { --orange:#f35422; --ink:#22211f; --muted:#8c8a86; --paper:#fdfaf5; --card:#ffffff; --line:#ebe6dc; --ok:#1f9d55; --warn:#d97706; --bad:#c62828; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--paper); font-size: 14px; }
header { display:flex; align-items:center; gap:14px; padding:18px 32px; background: var(--card); border-bottom:1px solid var(--line); }
header img { width:40px; height:40px; }
header h1 { margin:0; font-size:22px; font-weight:700; }
header .sub { color: var(--muted); font-size:13px; }
header .grow { flex:1; }
.pill { display:inline-flex; align-items:center; gap:6px; padding:4px 10px; border-radius:999px; background:#f3efe7; color:#555; font-size:12px; }
.dot { width:8px; height:8px; border-radius:50%; background: var(--muted); }
.pill.live .dot { background: var(--ok); box-shadow: 0 0 0 3px #1f9d5522; }
main { padding: 24px 32px 40px; max-width: 1400px; margin: 0 auto; }
h2 { font-size: 13px; letter-spacing: .08em; text-transform: uppercase; color: var(--muted); margin: 8px 0 12px; font-weight:600; }
section { margin-bottom: 28px; }
#apps { display:grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 14px; }
.app { display:flex; flex-direction:column; align-items:center; gap:8px; padding:16px 10px 14px; background: var(--card); border:1px solid var(--line); border-radius:14px; text-decoration:none; color:inherit; transition: transform .08s, box-shadow .08s; text-align:center; }
a.app:hover { transform: translateY(-2px); box-shadow: 0 6px 18px #0000000f; border-color:#f3542255; }
.app.nolink { opacity:.55; }
.app .icon { width:56px; height:56px; border-radius:14px; display:flex; align-items:center; justify-content:center; font-size:26px; font-weight:700; color:#fff; overflow:hidden; }
.app .icon img { width:100%; height:100%; object-fit:cover; }
.app .label { font-weight:600; font-size:14px; word-break: break-word; }
.app .pkg { color: var(--muted); font-size:11px; word-break: break-all; }
.app .path { font-family: ui-monospace, Menlo, Consolas, monospace; font-size:11px; color: var(--orange); word-break: break-all; }
#widgets { display:flex; flex-wrap:wrap; gap:14px; }
.widget { background: var(--card); border:1px solid var(--line); border-radius:14px; overflow:hidden; width: 320px; }
.widget .title { padding:8px 12px; font-weight:600; border-bottom:1px solid var(--line); font-size:13px; }
.widget iframe { border:0; width:100%; height:160px; display:block; }
.top { display:grid; grid-template-columns: minmax(0, 1fr) auto; gap: 22px; align-items:start; }
.top > section[hidden] { display:none; }
#widgets { flex-direction: column; }
td.owner, td.access { white-space: nowrap; }
.grid2 { display:grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 22px; }
@media (max-width: 1000px) { .grid2 { grid-template-columns: 1fr; } }
.panel { background: var(--card); border:1px solid var(--line); border-radius:14px; overflow:hidden; }
table { width:100%; border-collapse: collapse; }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); vertical-align: top; }
th { font-size:11px; text-transform: uppercase; letter-spacing:.06em; color: var(--muted); font-weight:600; background:#faf8f3; }
tr:last-child td { border-bottom: 0; }
td.mono, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size:12px; word-break: break-all; }
td.num { text-align:right; font-variant-numeric: tabular-nums; }
.badge { display:inline-block; padding:2px 8px; border-radius:999px; font-size:11px; font-weight:600; }
.badge.running { background:#1f9d5518; color: var(--ok); }
.badge.restarting { background:#d9770618; color: var(--warn); }
.badge.exited { background:#c6282818; color: var(--bad); }
.gen { display:inline-block; padding:1px 6px; border-radius:6px; background:#eef2ff; color:#3949ab; font-size:11px; font-weight:600; }
.gen.v0 { background:#f3e8ff; color:#7b1fa2; }
.empty { padding:14px; color: var(--muted); }
.arrow { color: var(--muted); padding: 0 4px; }
a { color: var(--orange); }
`;

const SCRIPT = `
(function () {
  var snap = JSON.parse(document.getElementById('snapshot').textContent);
  var NODE = snap.node;
  var appsKey = '';
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function hue(s) { var h = 0; for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) % 360; return h; }
  function safeSrc(s) { return typeof s === 'string' && (/^data:image\\//.test(s) || (s[0] === '/' && s[1] !== '/')); }
  function size(n) { if (n == null) return '—'; if (n < 1024) return n + ' B'; if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB'; return (n / 1048576).toFixed(1) + ' MiB'; }
  function time(t) { var d = new Date(t); return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0'); }
  function cell(tr, text, cls) { var td = el('td', cls, text); tr.appendChild(td); return td; }
  function rows(tbody, items, fill, emptyText, cols) {
    tbody.textContent = '';
    if (items.length === 0) { var tr = el('tr'); var td = el('td', 'empty', emptyText); td.colSpan = cols; tr.appendChild(td); tbody.appendChild(tr); return; }
    items.forEach(function (it) { var tr = el('tr'); fill(tr, it); tbody.appendChild(tr); });
  }
  function renderApps(s) {
    var key = JSON.stringify([s.packages, s.widgets]);
    if (key === appsKey) return;
    appsKey = key;
    var apps = document.getElementById('apps');
    apps.textContent = '';
    if (s.packages.length === 0) apps.appendChild(el('div', 'empty', 'No packages installed yet.'));
    s.packages.forEach(function (p) {
      var card = el(p.link ? 'a' : 'div', 'app' + (p.link ? '' : ' nolink'));
      if (p.link) card.href = p.link;
      card.setAttribute('data-package', p.id);
      var icon = el('div', 'icon');
      if (safeSrc(p.icon)) { var img = el('img'); img.src = p.icon; img.alt = ''; icon.appendChild(img); }
      else { icon.textContent = (p.label[0] || '?').toUpperCase(); icon.style.background = 'hsl(' + hue(p.id) + ' 70% 52%)'; }
      card.appendChild(icon);
      card.appendChild(el('div', 'label', p.label));
      card.appendChild(el('div', 'pkg', p.id));
      card.appendChild(el('div', 'path', p.link || 'no UI bound'));
      apps.appendChild(card);
    });
    var wsec = document.getElementById('widgets-section');
    var widgets = document.getElementById('widgets');
    widgets.textContent = '';
    wsec.hidden = s.widgets.length === 0;
    s.widgets.forEach(function (w) {
      var box = el('div', 'widget');
      box.appendChild(el('div', 'title', w.label));
      var f = el('iframe');
      f.setAttribute('sandbox', 'allow-scripts');
      f.srcdoc = w.widget;
      f.title = w.label;
      box.appendChild(f);
      widgets.appendChild(box);
    });
  }
  function render(s) {
    document.getElementById('node').textContent = s.node;
    document.getElementById('version').textContent = 'kinode v' + s.version + ' · kinode-host · ' + s.processes.length + ' processes · ' + size(s.memory.rss) + ' RSS';
    renderApps(s);
    var procs = s.processes.map(function (p) { return { p: p, status: p.running ? 'running' : 'restarting' }; })
      .concat(s.exited.map(function (e) { return { p: { pid: e.pid, generation: null, restarts: null, onExit: '', memory: null }, status: 'exited', at: e.at }; }));
    rows(document.querySelector('#processes tbody'), procs, function (tr, x) {
      var p = x.p;
      cell(tr, p.pid, 'mono pid');
      var g = cell(tr, ''); if (p.generation !== null) g.appendChild(el('span', 'gen v' + p.generation, 'v' + p.generation));
      cell(tr, '').appendChild(el('span', 'badge ' + x.status, x.status));
      cell(tr, p.restarts === null ? '' : String(p.restarts), 'num');
      cell(tr, p.onExit);
      var m = cell(tr, x.status === 'exited' ? '' : size(p.memory ? p.memory.wasm + p.memory.heap : null), 'num');
      if (p.memory) m.title = 'wasm memory ' + size(p.memory.wasm) + ' + JS heap ' + size(p.memory.heap);
    }, 'No processes.', 6);
    // the apps' paths first, then the homepage's own
    var bindings = s.bindings.filter(function (b) { return b.owner !== 'homepage:homepage:sys'; })
      .concat(s.bindings.filter(function (b) { return b.owner === 'homepage:homepage:sys'; }));
    rows(document.querySelector('#bindings tbody'), bindings, function (tr, b) {
      cell(tr, b.kind === 'http' ? 'HTTP' : 'WS');
      var td = cell(tr, '', 'mono');
      var shown = b.path === '' ? '/' : b.path;
      if (b.kind === 'http' && !/[:*]/.test(shown.split('/').slice(2).join('/'))) { var a = el('a', '', shown); a.href = shown; td.appendChild(a); }
      else td.textContent = (b.kind === 'ws' ? 'ws://' + location.host : '') + shown;
      cell(tr, b.owner, 'mono owner');
      cell(tr, (b.authenticated ? 'login' : 'public') + (b.cached ? ' · static' : '') + (b.secureSubdomain ? ' · subdomain' : ''), 'access');
    }, 'Nothing bound.', 4);
    rows(document.querySelector('#messages tbody'), s.messages.slice().reverse(), function (tr, m) {
      cell(tr, time(m.at), 'mono');
      var td = cell(tr, '', 'mono');
      td.appendChild(document.createTextNode(m.source));
      td.appendChild(el('span', 'arrow', '→'));
      td.appendChild(document.createTextNode(m.target));
      cell(tr, m.kind);
      cell(tr, size(m.bytes), 'num');
    }, 'No messages since this page opened.', 4);
  }
  function cookie(name) {
    var parts = document.cookie.split(';');
    for (var i = 0; i < parts.length; i++) { var c = parts[i].trim(); if (c.indexOf(name + '=') === 0) return c.slice(name.length + 1); }
  }
  var tries = 0;
  function connect() {
    var status = document.getElementById('status');
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/');
    ws.onopen = function () {
      ws.send(JSON.stringify({ auth_token: cookie('kinode-auth_' + NODE) || '', target_process: 'homepage:homepage:sys', encrypted: false }));
    };
    ws.onmessage = function (ev) {
      tries = 0;
      status.className = 'pill live'; status.lastChild.textContent = 'live';
      document.body.setAttribute('data-live', 'yes');
      render(JSON.parse(ev.data));
    };
    ws.onclose = function () {
      status.className = 'pill'; status.lastChild.textContent = 'offline';
      document.body.setAttribute('data-live', 'no');
      if (tries++ < 20) setTimeout(connect, 2000);
    };
  }
  render(snap);
  connect();
})();
`;

export function startPage(snap: Snapshot): string {
  const n = escapeHtml(snap.node);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${n}</title>
<link rel="icon" href="/bird-orange.svg">
<style>${STYLE}</style>
</head>
<body>
<header>
  <img src="/bird-orange.svg" alt="">
  <div><h1 id="node">${n}</h1><div class="sub" id="version"></div></div>
  <div class="grow"></div>
  <span id="status" class="pill"><span class="dot"></span><span>connecting</span></span>
</header>
<main>
  <div class="top">
    <section><h2>Apps</h2><div id="apps"></div></section>
    <section id="widgets-section" hidden><h2>Widgets</h2><div id="widgets"></div></section>
  </div>
  <div class="grid2">
    <div>
      <section><h2>Processes</h2><div class="panel"><table id="processes"><thead><tr><th>Process</th><th>Gen</th><th>Status</th><th>Restarts</th><th>On exit</th><th>Memory</th></tr></thead><tbody></tbody></table></div></section>
      <section><h2>Recent messages</h2><div class="panel"><table id="messages"><thead><tr><th>Time</th><th>Source → target</th><th>Kind</th><th>Size</th></tr></thead><tbody></tbody></table></div></section>
    </div>
    <section><h2>Bound paths</h2><div class="panel"><table id="bindings"><thead><tr><th></th><th>Path</th><th>Owner</th><th>Access</th></tr></thead><tbody></tbody></table></div></section>
  </div>
</main>
<script id="snapshot" type="application/json">${scriptJson(snap)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
