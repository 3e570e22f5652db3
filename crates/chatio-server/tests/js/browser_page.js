// Runs inside headless Chromium, before the bundle, in a page of another origin than the server (as on a
// customer's website), after the (address-patched) SDK bundle. It watches — without
// changing — the page's XMLHttpRequest and WebSocket to prove the socket.io client polled
// first and then upgraded, drives the SDK and leaves the outcome in window.__result.
/* global CustomerSDK */
(function () {
  'use strict';
  var log = [];
  var seen = { polls: 0, websockets: 0 };
  var XHR = window.XMLHttpRequest;
  var open = XHR.prototype.open;
  XHR.prototype.open = function (method, url) {
    if (String(url).indexOf('/rtm/sio') >= 0 && String(url).indexOf('transport=polling') >= 0) seen.polls += 1;
    return open.apply(this, arguments);
  };
  var WS = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    var ws = protocols ? new WS(url, protocols) : new WS(url);
    ws.addEventListener('open', function () { seen.websockets += 1; });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  window.__seen = seen;

  function finish(ok, error) {
    window.__result = { ok: ok, error: error ? String(error && error.stack || JSON.stringify(error)) : null, log: log, seen: seen };
  }
  function check(cond, what) { if (!cond) throw new Error('check failed: ' + what); log.push('ok: ' + what); }
  function waitFor(sdk, type, pred, ms) {
    return new Promise(function (resolve, reject) {
      var t = setTimeout(function () { reject(new Error('timed out waiting for ' + type)); }, ms || 15000);
      var h = function (p) { if (!pred || pred(p)) { clearTimeout(t); sdk.off(type, h); resolve(p); } };
      sdk.on(type, h);
    });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  window.__run = function () {
    var sdk = CustomerSDK.init({ license: 100, clientId: 'chatio-browser-harness' });
    var connected = waitFor(sdk, 'connected');
    var customerId = waitFor(sdk, 'customer_id');
    var state = {};
    Promise.all([customerId, connected]).then(function (r) {
      state.customer = r[0];
      check(/^[0-9a-f-]{36}$/.test(r[0]), 'customer_id from the token the accounts iframe posted');
      check(r[1].totalChats === 0, 'connected (login over socket.io)');
      return sdk.auth.getToken();
    }).then(function (token) {
      check(token.entityId === state.customer && token.tokenType === 'Bearer', 'token fields from postMessage');
      return sdk.startChat();
    }).then(function (chat) {
      state.chat = chat.id;
      check(chat.threads.length === 1, 'startChat');
      var answer = waitFor(sdk, 'new_event', function (p) { return p.event.author !== state.customer && /browser ✓/.test(p.event.text || ''); });
      return sdk.sendMessage(chat.id, { text: 'browser ✓ 😀' }).then(function (ev) {
        check(ev.text === 'browser ✓ 😀', 'sendMessage resolved');
        return answer;
      });
    }).then(function () {
      log.push('ok: the agent answered');
      var progress = [];
      var bytes = new Uint8Array(300 * 1024);
      var file = new File([bytes], 'data.bin', { type: 'application/octet-stream' });
      return sdk.sendFile(state.chat, { file: file }, { onProgress: function (p) { progress.push(p); } }).then(function (r) {
        check(/\/api\/file\//.test(r.url), 'sendFile (cross-origin XHR upload, CORS preflight)');
        check(progress.length >= 1 && progress[progress.length - 1] === 1, 'upload progress reached 1');
      });
    }).then(function () {
      return sdk.closeThread(state.chat);
    }).then(function () {
      return sdk.sendMessage(state.chat, { text: 'second thread' });
    }).then(function () {
      var history = sdk.getChatHistory(state.chat);
      var all = [];
      function more() {
        return history.next().then(function (r) {
          if (r.value) all = r.value.concat(all);
          return r.done ? all : more();
        });
      }
      return more();
    }).then(function (events) {
      check(events.length >= 4, 'getChatHistory returned ' + events.length + ' events');
      return sdk.getChatThreadsSummary(state.chat);
    }).then(function (s) {
      check(s.totalThreads === 2 && typeof s.threadsSummary[0].totalEvents === 'number', 'thread summaries count events');
      var tries = 0;
      function upgraded() {
        if (seen.websockets > 0) return true;
        if (++tries > 100) return false;
        return sleep(100).then(upgraded);
      }
      return upgraded();
    }).then(function (up) {
      check(seen.polls > 0, 'XHR long-polling was used first (' + seen.polls + ' polls)');
      check(up, 'the transport upgraded to a websocket');
      finish(true);
    }).catch(function (e) { finish(false, e); });
  };
})();
