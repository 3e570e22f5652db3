// The few browser globals @livechat/chat.io-customer-sdk 0.9.1's dist bundle needs, for Node:
// window/self, location, navigator, document (body, iframes), XMLHttpRequest (with upload
// progress and FormData bodies), WebSocket (the `ws` package) and, optionally, localStorage.
//
// The hidden accounts iframe is "loaded" for real: its page is fetched from the server and
// its inline script runs in a fresh VM context whose `window.parent.postMessage` delivers a
// `message` event to this window, with the iframe's origin, as a browser does. A cookie jar
// keeps the accounts cookies (the server remembers the customer in one).
'use strict';

const http = require('http');
const vm = require('vm');
const { URL } = require('url');

/**
 * Installs the globals. Must run before the bundle is loaded (it captures WebSocket and
 * XMLHttpRequest at load time).
 *
 * options.pageUrl: the URL of the "page" the SDK runs in (its origin is the postMessage
 *   target); options.WebSocket: a WebSocket class; options.cookies: false for no cookie jar
 *   (each token request is a new visitor); options.localStorage: a Storage-like object, or
 *   undefined for none (the bundle then keeps tokens in memory).
 */
function install(options) {
  const page = new URL(options.pageUrl);
  const listeners = {};
  const jar = options.cookies === false ? null : new Map();
  const agent = new http.Agent({ keepAlive: true });

  const win = globalThis;
  win.window = win;
  win.self = win;
  win.location = {
    href: page.href, origin: page.origin, protocol: page.protocol, host: page.host,
    hostname: page.hostname, port: page.port, pathname: page.pathname, search: page.search, hash: '',
    toString() { return page.href; },
  };
  if (typeof win.navigator === 'undefined') {
    Object.defineProperty(win, 'navigator', { value: { userAgent: 'Node.js chatio-harness' }, configurable: true });
  }
  win.addEventListener = (type, fn) => { (listeners[type] = listeners[type] || []).push(fn); };
  win.removeEventListener = (type, fn) => {
    const l = listeners[type];
    if (l) { const i = l.indexOf(fn); if (i >= 0) l.splice(i, 1); }
  };
  win.dispatchEvent = (ev) => { (listeners[ev.type] || []).slice().forEach((fn) => fn(ev)); return true; };
  if (options.localStorage) win.localStorage = options.localStorage;

  function cookieHeader(url) {
    if (!jar) return undefined;
    const c = jar.get(new URL(url).host);
    return c && c.size ? Array.from(c, ([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }
  function keepCookies(url, headers) {
    if (!jar) return;
    const set = headers['set-cookie'];
    if (!set) return;
    const host = new URL(url).host;
    const c = jar.get(host) || new Map();
    for (const line of set) {
      const [kv] = line.split(';');
      const eq = kv.indexOf('=');
      if (eq > 0) c.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
    }
    jar.set(host, c);
  }

  // ------------------------------------------------------------------ document and iframes
  function element(tag) {
    const attrs = {};
    return {
      tagName: tag.toUpperCase(), style: {}, parentNode: null, children: [],
      setAttribute(k, v) { attrs[k] = String(v); },
      getAttribute(k) { return k in attrs ? attrs[k] : null; },
      appendChild(child) { child.parentNode = this; this.children.push(child); if (child.tagName === 'IFRAME') loadIframe(child); return child; },
      removeChild(child) { const i = this.children.indexOf(child); if (i >= 0) this.children.splice(i, 1); child.parentNode = null; return child; },
      _attrs: attrs,
    };
  }
  const body = element('body');
  win.document = {
    body,
    documentElement: { style: {} },
    createElement: element,
    getElementsByTagName: () => [],
  };

  function loadIframe(iframe) {
    const src = iframe.getAttribute('src');
    if (!src) return;
    const srcUrl = new URL(src);
    const headers = { accept: 'text/html' };
    const cookie = cookieHeader(src);
    if (cookie) headers.cookie = cookie;
    const req = http.get(src, { agent, headers }, (res) => {
      keepCookies(src, res.headers);
      let html = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { html += d; });
      res.on('end', () => {
        if (!iframe.parentNode) return; // removed before it loaded
        const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
        const parent = {
          postMessage(data, targetOrigin) {
            if (targetOrigin !== '*' && new URL(targetOrigin).origin !== page.origin) return; // as a browser would
            const copy = structuredClone(data);
            setTimeout(() => win.dispatchEvent({ type: 'message', data: copy, origin: srcUrl.origin, source: frameWindow }), 0);
          },
        };
        const frameWindow = { parent, location: { href: src, origin: srcUrl.origin } };
        frameWindow.window = frameWindow;
        frameWindow.self = frameWindow;
        const ctx = vm.createContext(frameWindow);
        for (const s of scripts) vm.runInContext(s, ctx, { filename: src, timeout: 1000 });
      });
    });
    req.on('error', () => {});
  }

  // ------------------------------------------------------------------ XMLHttpRequest
  class XMLHttpRequest {
    constructor() {
      this.readyState = 0; this.status = 0; this.statusText = ''; this.responseType = '';
      this.response = null; this._text = ''; this.withCredentials = false; this.timeout = 0;
      this.upload = { onprogress: null }; this._headers = {}; this._resHeaders = {};
      this.onreadystatechange = null; this.onload = null; this.onerror = null; this.onabort = null;
    }
    get responseText() {
      if (this.responseType !== '' && this.responseType !== 'text') {
        throw new Error("InvalidStateError: responseText is only available if responseType is '' or 'text'");
      }
      return this._text;
    }
    open(method, url) { this._method = method; this._url = new URL(url, page.href).href; this._setState(1); }
    setRequestHeader(k, v) { this._headers[k.toLowerCase()] = String(v); }
    getResponseHeader(k) { const v = this._resHeaders[k.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v; }
    getAllResponseHeaders() { return Object.entries(this._resHeaders).map(([k, v]) => `${k}: ${v}`).join('\r\n'); }
    _setState(s) { this.readyState = s; if (this.onreadystatechange) this.onreadystatechange(); }
    abort() {
      if (this._req) this._req.destroy();
      this._aborted = true;
      if (this.readyState !== 0 && this.readyState !== 4) {
        this.status = 0; this._setState(4);
        if (this.onabort) this.onabort({ type: 'abort' });
      }
    }
    send(data) {
      this._body(data).then((buf) => this._send(buf), (e) => this._fail(e));
    }
    async _body(data) {
      if (data === undefined || data === null) return null;
      if (typeof data === 'string') {
        if (!this._headers['content-type']) this._headers['content-type'] = 'text/plain;charset=UTF-8';
        return Buffer.from(data, 'utf8');
      }
      if (data instanceof ArrayBuffer) return Buffer.from(data);
      if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (typeof FormData !== 'undefined' && data instanceof FormData) {
        const r = new Response(data);
        this._headers['content-type'] = r.headers.get('content-type');
        return Buffer.from(await r.arrayBuffer());
      }
      if (typeof Blob !== 'undefined' && data instanceof Blob) return Buffer.from(await data.arrayBuffer());
      return Buffer.from(String(data), 'utf8');
    }
    _fail(e) {
      if (this._aborted) return;
      this.status = 0; this._setState(4);
      if (this.onerror) this.onerror({ type: 'error', error: e });
    }
    _send(buf) {
      if (this._aborted) return;
      const headers = { ...this._headers, origin: page.origin };
      if (this.withCredentials) { const c = cookieHeader(this._url); if (c) headers.cookie = c; }
      if (buf) headers['content-length'] = buf.length;
      const req = this._req = http.request(this._url, { method: this._method, headers, agent }, (res) => {
        if (this.withCredentials) keepCookies(this._url, res.headers);
        this.status = res.statusCode; this.statusText = res.statusMessage; this._resHeaders = res.headers;
        this._setState(2);
        const chunks = [];
        res.on('data', (d) => { chunks.push(d); if (this.readyState !== 3) this._setState(3); });
        res.on('end', () => {
          if (this._aborted) return;
          const all = Buffer.concat(chunks);
          if (this.responseType === 'arraybuffer') {
            this.response = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
          } else {
            this._text = all.toString('utf8'); this.response = this._text;
          }
          this._setState(4);
          if (this.onload) this.onload({ type: 'load' });
        });
        res.on('error', (e) => this._fail(e));
      });
      req.on('error', (e) => this._fail(e));
      if (!buf) { req.end(); return; }
      // Written in slices so that upload progress is reported as the body goes out.
      const total = buf.length;
      const slice = 64 * 1024;
      let sent = 0;
      const writeMore = () => {
        while (sent < total) {
          const part = buf.subarray(sent, Math.min(total, sent + slice));
          sent += part.length;
          const more = req.write(part);
          const loaded = sent;
          if (this.upload.onprogress) this.upload.onprogress({ type: 'progress', loaded, total, lengthComputable: true });
          if (!more) { req.once('drain', writeMore); return; }
        }
        req.end();
      };
      writeMore();
    }
  }
  win.XMLHttpRequest = XMLHttpRequest;
  // Counts the websockets opened (the transport upgrade) and lets tests see them.
  const stats = { websocketsOpened: 0, sockets: [] };
  const Base = options.WebSocket;
  class CountingWebSocket extends Base {
    constructor(...args) {
      super(...args);
      stats.sockets.push(this);
      this.addEventListener('open', () => { stats.websocketsOpened += 1; });
    }
  }
  win.WebSocket = CountingWebSocket;
  return { agent, stats, clearCookies: () => { if (jar) jar.clear(); } };
}

module.exports = { install };
