// Issue 21, finding 3, in headless Chromium: pages on two local origins against chatio-server.
// The server registers one app whose redirect URI is on origin A (the shop). A page on
// origin B (another port of the same host: the same site, so the accounts cookie is sent)
// tries everything a hostile page can: framing the accounts page aimed at A or at itself,
// reading the token endpoint and the Web API with `credentials: 'include'`. It must receive
// no token. The page on A gets its token (the harness can see success).
//
// usage: node cross_origin.js <server origin> <port A> <port B> [chromium] [chromedriver]
'use strict';

const http = require('http');
const { spawn } = require('child_process');

const [server, portA, portB, chromium = '/usr/bin/chromium', chromedriver = '/usr/bin/chromedriver'] = process.argv.slice(2);
const A = `http://127.0.0.1:${portA}`;
const B = `http://127.0.0.1:${portB}`;

// What each page runs: collects every message and fetch outcome into window.__seen.
function pageScript(self, attempts) {
  return `
window.__seen = [];
window.addEventListener('message', (e) => { window.__seen.push({ kind: 'message', origin: e.origin, data: e.data }); });
function frame(src) { const f = document.createElement('iframe'); f.src = src; document.body.appendChild(f); }
async function tryFetch(label, url, init) {
  try {
    const r = await fetch(url, init);
    const text = await r.text();
    window.__seen.push({ kind: 'fetch', label, status: r.status, body: text });
  } catch (e) {
    window.__seen.push({ kind: 'fetch', label, blocked: String(e) });
  }
}
window.__run = async function () {
  ${attempts}
  setTimeout(() => { window.__done = true; }, 3000);
};`;
}

const accounts = (redirect, target) => `${server}/customer?license_id=100&client_id=shop&response_type=token`
  + `&redirect_uri=${encodeURIComponent(redirect)}&post_message_uri=${encodeURIComponent(target)}&state=s`;
const form = 'client_id=shop&response_type=token&redirect_uri=' + encodeURIComponent(`${A}/`);

const good = pageScript(A, `
  frame(${JSON.stringify(accounts(`${A}/`, `${A}/`))});
  await tryFetch('token', ${JSON.stringify(`${server}/customer/`)}, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: ${JSON.stringify(form)} });
`);
const evil = (victim) => pageScript(B, `
  frame(${JSON.stringify(accounts(`${A}/`, `${A}/`))});
  frame(${JSON.stringify(accounts(`${A}/`, `${B}/`))});
  frame(${JSON.stringify(accounts(`${B}/`, `${B}/`))});
  await tryFetch('token-credentials', ${JSON.stringify(`${server}/customer/`)}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: ${JSON.stringify(form)} });
  await tryFetch('token-victim', ${JSON.stringify(`${server}/customer/`)}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: ${JSON.stringify(form)} + '&customer_id=' + encodeURIComponent(${JSON.stringify(victim)}) });
  await tryFetch('accounts-page', ${JSON.stringify(accounts(`${A}/`, `${A}/`))}, { credentials: 'include' });
  await tryFetch('web-api', ${JSON.stringify(`${server}/customer/v0.5/action/get_chats_summary?license_id=100`)}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{}' });
`);

function site(port, script) {
  const html = '<!doctype html><html><head><meta charset="utf-8"></head><body><script src="/page.js"></script></body></html>';
  const s = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/' || path === '/index.html') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html); return; }
    if (path === '/page.js') { res.writeHead(200, { 'content-type': 'application/javascript' }); res.end(script()); return; }
    res.writeHead(404); res.end();
  });
  return new Promise((resolve) => s.listen(Number(port), '127.0.0.1', () => resolve(s)));
}

async function main() {
  let victim = '';
  const siteA = await site(portA, () => good);
  const siteB = await site(portB, () => evil(victim));
  const probe = http.createServer();
  const driverPort = await new Promise((r) => probe.listen(0, '127.0.0.1', () => r(probe.address().port)));
  await new Promise((r) => probe.close(r));
  const driver = spawn(chromedriver, [`--port=${driverPort}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const wd = `http://127.0.0.1:${driverPort}`;
  const call = async (method, url, body) => {
    const res = await fetch(wd + url, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${url}: ${JSON.stringify(json)}`);
    return json.value;
  };
  let session;
  try {
    for (let i = 0; ; i++) {
      try { await call('GET', '/status'); break; } catch (e) { if (i > 100) throw e; await new Promise((r) => setTimeout(r, 100)); }
    }
    const caps = { capabilities: { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': { binary: chromium,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'] } } } };
    session = (await call('POST', '/session', caps)).sessionId;
    const visit = async (url) => {
      await call('POST', `/session/${session}/url`, { url });
      await call('POST', `/session/${session}/execute/sync`, { script: 'window.__run(); return true;', args: [] });
      const deadline = Date.now() + 20000;
      for (;;) {
        const done = await call('POST', `/session/${session}/execute/sync`, { script: 'return window.__done ? window.__seen : null;', args: [] });
        if (done) return done;
        if (Date.now() > deadline) throw new Error(`no result from ${url}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    // 1. The shop's page: a token by postMessage (the cookie is set now) and a readable answer.
    const a = await visit(`${A}/`);
    console.log(`A saw: ${JSON.stringify(a)}`);
    const token = a.find((s) => s.kind === 'message' && s.data && s.data.access_token);
    if (!token) throw new Error('the registered origin got no token: the harness cannot see success');
    if (token.origin !== server) throw new Error(`the token came from ${token.origin}`);
    victim = token.data.entity_id;
    const read = a.find((s) => s.label === 'token');
    if (!read || read.status !== 200 || !JSON.parse(read.body).access_token) throw new Error(`A could not read the token endpoint: ${JSON.stringify(read)}`);
    // 2. The hostile page on another port, with the victim's cookie in the browser.
    const b = await visit(`${B}/`);
    console.log(`B saw: ${JSON.stringify(b)}`);
    const leaked = b.filter((s) => JSON.stringify(s).includes('access_token') || JSON.stringify(s).includes(victim));
    if (leaked.length) throw new Error(`the page on ${B} received: ${JSON.stringify(leaked)}`);
    const fetches = b.filter((s) => s.kind === 'fetch');
    if (fetches.length !== 4 || fetches.some((f) => !f.blocked)) throw new Error(`a credentialed read was not blocked: ${JSON.stringify(fetches)}`);
    console.log('cross-origin: all checks passed');
  } finally {
    if (session) await call('DELETE', `/session/${session}`).catch(() => {});
    driver.kill();
    siteA.close();
    siteB.close();
  }
}

main().then(() => process.exit(0), (e) => { console.log(`not ok - ${e && e.stack ? e.stack : e}`); process.exit(1); });
