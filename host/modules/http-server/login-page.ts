// The login page served at `GET /login` and, with status 200, in place of any private page
// requested without a valid cookie (as the runtime does). Like Kinode 1.0's page it posts JSON
// `{"password_hash": "0x<Argon2id(password, salt = node name) hex>", "subdomain": "<process id>" | ""}`
// to `/login` and reloads on success, so the browser then gets the page it asked for with the
// new cookie. Argon2 runs in the page with hash-wasm, served by the node itself at
// LOGIN_SCRIPT_PATH (the runtime loads argon2-browser from a CDN). Where Argon2 cannot run
// (node names under 8 bytes, the script did not load) the page posts `{"password": ...}`.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LOGIN_ARGON2 } from './auth.js';

/** hash-wasm's Argon2 bundle (global `hashwasm`), served by http-server itself */
export const LOGIN_SCRIPT_PATH = '/login/argon2.js';

let script: Buffer | undefined;
export function loginScript(): Buffer {
  script ??= readFileSync(createRequire(import.meta.url).resolve('hash-wasm/dist/argon2.umd.min.js'));
  return script;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function loginPage(node: string): string {
  const n = escapeHtml(node);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${n} · login</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #fdfaf5; color: #22211f; display: flex; justify-content: center; margin: 0; padding-top: 14vh; }
  form { background: #fff; border: 1px solid #ebe6dc; border-radius: 14px; padding: 2em 2.2em; width: 22em; box-shadow: 0 8px 28px #0000000d; }
  h1 { font-size: 1.25em; margin: 0 0 1.2em; word-break: break-all; }
  h1::before { content: ""; display: inline-block; width: .7em; height: .7em; border-radius: 50%; background: #f35422; margin-right: .5em; vertical-align: .05em; }
  label { font-size: .85em; color: #6b6862; }
  input, button { font: inherit; width: 100%; box-sizing: border-box; padding: .6em .7em; margin-top: .5em; border-radius: 8px; }
  input { border: 1px solid #d9d3c7; }
  input:focus { outline: 2px solid #f3542255; border-color: #f35422; }
  button { background: #f35422; color: #fff; border: 0; font-weight: 600; cursor: pointer; margin-top: 1em; }
  button:hover { background: #cf4619; }
  button:disabled { opacity: .6; cursor: wait; }
  #error { color: #c62828; min-height: 1.4em; margin-top: .7em; font-size: .9em; }
</style>
</head>
<body>
<form id="login-form">
  <h1 id="title">${n}</h1>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
  <button id="submit" type="submit">Log in</button>
  <div id="error" role="alert"></div>
</form>
<script src="${LOGIN_SCRIPT_PATH}"></script>
<script>
(function () {
  var NODE = ${JSON.stringify(node).replace(/</g, '\\u003c')};
  var ARGON2 = ${JSON.stringify(LOGIN_ARGON2)};
  // what Kinode 1.0's page posts; the plain password where Argon2 cannot run here
  function credentials(password) {
    var canHash = window.hashwasm && new TextEncoder().encode(NODE).length >= 8;
    if (!canHash) return Promise.resolve({ password: password });
    return window.hashwasm.argon2id({
      password: password, salt: NODE, iterations: ARGON2.iterations, memorySize: ARGON2.memorySize,
      parallelism: ARGON2.parallelism, hashLength: ARGON2.hashLength, outputType: 'hex'
    }).then(function (hex) { return { password_hash: '0x' + hex }; });
  }
  // a secure-subdomain app is served at <package>-<publisher>.<host>/<process id>/...
  var first = decodeURIComponent(location.pathname.split('/')[1] || '');
  var parts = first.split(':');
  var expected = parts.length === 3 ? (parts[1] + '-' + parts[2]).replace(/[^A-Za-z0-9]/g, '-') : '';
  var secure = expected !== '' && location.hostname.split('.')[0] === expected;
  if (secure) document.getElementById('title').textContent = NODE + ': log in to ' + first;
  document.getElementById('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var error = document.getElementById('error');
    var button = document.getElementById('submit');
    error.textContent = '';
    button.disabled = true;
    credentials(document.getElementById('password').value).then(function (c) {
      c.subdomain = secure ? first : '';
      return fetch('/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(c)
      });
    }).then(function (r) {
      button.disabled = false;
      if (r.ok) {
        document.body.setAttribute('data-login', 'ok');
        location.reload();
      } else {
        error.textContent = r.status === 429 ? 'Too many attempts: wait a minute' : 'Incorrect password';
        document.getElementById('password').value = '';
      }
    }, function () {
      button.disabled = false;
      error.textContent = 'Cannot reach the node';
    });
  });
})();
</script>
</body>
</html>
`;
}
