// The real @livechat/chat.io-customer-sdk 0.9.1 in headless Chromium against chatio-server:
// serves a page (on its own origin, like a customer's website) that loads the
// address-patched dist bundle and browser_page.js, drives Chromium through chromedriver's
// WebDriver HTTP API (no client library), and waits for the page's verdict. The accounts
// iframe, its postMessage, XHR long-polling and the websocket upgrade all run in the browser.
//
// usage: node sdk_browser.js <package dir> <server origin> [chromium binary] [chromedriver binary]
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const bundle = require('./sdk_bundle.js');

const [pkgDir, origin, chromium = '/usr/bin/chromium', chromedriver = '/usr/bin/chromedriver'] = process.argv.slice(2);

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function main() {
  const sdkSource = bundle.patchedSource(pkgDir, origin);
  const pageScript = fs.readFileSync(path.join(__dirname, 'browser_page.js'), 'utf8');
  const html = '<!doctype html><html><head><meta charset="utf-8"><title>chatio harness</title></head><body>'
    + '<script src="/page.js"></script><script src="/sdk.js"></script></body></html>';
  const site = http.createServer((req, res) => {
    const body = { '/': html, '/index.html': html, '/sdk.js': sdkSource, '/page.js': pageScript }[req.url.split('?')[0]];
    if (body === undefined) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': req.url.endsWith('.js') ? 'application/javascript' : 'text/html; charset=utf-8' });
    res.end(body);
  });
  const sitePort = await listen(site);

  const probe = http.createServer();
  const driverPort = await listen(probe);
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
    const caps = {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          'goog:chromeOptions': {
            binary: chromium,
            args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
          },
        },
      },
    };
    session = (await call('POST', '/session', caps)).sessionId;
    await call('POST', `/session/${session}/url`, { url: `http://127.0.0.1:${sitePort}/` });
    await call('POST', `/session/${session}/execute/sync`, { script: 'window.__run(); return true;', args: [] });
    let result = null;
    const deadline = Date.now() + 90000;
    while (!result && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      result = await call('POST', `/session/${session}/execute/sync`, { script: 'return window.__result || null;', args: [] });
    }
    if (!result) {
      const partial = await call('POST', `/session/${session}/execute/sync`, { script: 'return window.__seen;', args: [] });
      throw new Error(`no verdict from the page in time; seen ${JSON.stringify(partial)}`);
    }
    for (const line of result.log) console.log(line);
    console.log(`browser: ${JSON.stringify(result.seen)}`);
    if (!result.ok) throw new Error(`the page failed: ${result.error}`);
    console.log('browser: all checks passed');
  } finally {
    if (session) await call('DELETE', `/session/${session}`).catch(() => {});
    driver.kill();
    site.close();
  }
}

main().then(() => process.exit(0), (e) => { console.log(`not ok - ${e && e.stack ? e.stack : e}`); process.exit(1); });
