// The demo UI: shows the node name (from /our.js) and the process's /api answer.
const API = '/demo:demo:template.os/api';

function show(id, text) {
  document.getElementById(id).textContent = text;
}

async function ask() {
  show('status', 'loading…');
  try {
    const res = await fetch(API, { credentials: 'same-origin' });
    const body = await res.text();
    let pretty = body;
    try {
      pretty = JSON.stringify(JSON.parse(body), null, 2);
    } catch {}
    show('status', `${res.status} ${res.ok ? 'OK' : res.statusText}`);
    show('api', pretty);
    document.body.dataset.api = res.ok ? 'ok' : 'error';
  } catch (e) {
    show('status', 'request failed');
    show('api', String(e));
    document.body.dataset.api = 'error';
  }
}

show('node', (window.our && window.our.node) || 'unknown');
document.getElementById('again').addEventListener('click', ask);
ask();
