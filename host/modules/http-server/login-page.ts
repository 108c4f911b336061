// The login page served at `GET /login` and, with status 200, in place of any private page
// requested without a valid cookie (as the runtime does). It posts JSON
// `{"password": "...", "subdomain": "<process id>" | ""}` to `/login` and reloads on success,
// so the browser then gets the page it asked for with the new cookie.

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
  body { font-family: system-ui, sans-serif; background: #f4f4f0; display: flex; justify-content: center; margin-top: 12vh; }
  form { background: #fff; border: 1px solid #ccc; border-radius: 8px; padding: 2em; min-width: 18em; }
  h1 { font-size: 1.2em; margin: 0 0 1em; word-break: break-all; }
  input, button { font-size: 1em; width: 100%; box-sizing: border-box; padding: .5em; margin-top: .5em; }
  #error { color: #b00020; min-height: 1.4em; margin-top: .5em; }
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
<script>
(function () {
  // a secure-subdomain app is served at <package>-<publisher>.<host>/<process id>/...
  var first = decodeURIComponent(location.pathname.split('/')[1] || '');
  var parts = first.split(':');
  var expected = parts.length === 3 ? (parts[1] + '-' + parts[2]).replace(/[^A-Za-z0-9]/g, '-') : '';
  var secure = expected !== '' && location.hostname.split('.')[0] === expected;
  if (secure) document.getElementById('title').textContent = ${JSON.stringify(node).replace(/</g, '\\u003c')} + ': log in to ' + first;
  document.getElementById('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var error = document.getElementById('error');
    error.textContent = '';
    fetch('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ password: document.getElementById('password').value, subdomain: secure ? first : '' })
    }).then(function (r) {
      if (r.ok) {
        document.body.setAttribute('data-login', 'ok');
        location.reload();
      } else {
        error.textContent = 'Incorrect password';
        document.getElementById('password').value = '';
      }
    }, function () {
      error.textContent = 'Cannot reach the node';
    });
  });
})();
</script>
</body>
</html>
`;
}
