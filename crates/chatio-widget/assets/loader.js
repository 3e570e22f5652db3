/*! chatio-rs chat widget loader. One line on any page:
 *   <script src="https://SERVER/widget/loader.js" data-license="100" async></script>
 * Settings, API and messages: crates/chatio-widget/src/lib.rs ("Embedding a site"). */
(function () {
  'use strict';
  var w = window, d = document, P = 'chatio: ';
  if (w.__chatioLoader) return; // the snippet twice on one page
  w.__chatioLoader = true;
  var script = d.currentScript;
  if (!script || !script.src) return console.error(P + 'load loader.js with a <script src> tag');
  var base = new URL('.', script.src).href; // where the widget's files are
  var frameOrigin = new URL(script.src).origin;
  var extra = w.__chatio && typeof w.__chatio === 'object' ? w.__chatio : {};
  var ds = script.dataset;
  function opt(name) {
    var v = ds[name];
    return v !== undefined ? v : extra[name];
  }
  var license = String(opt('license') || '');
  if (!/^[0-9]{1,19}$/.test(license)) return console.error(P + 'data-license must be a license number, not "' + license + '"');
  var label = String(opt('label') || 'Chat with us');
  var color = String(opt('color') || '');
  if (!/^#[0-9a-fA-F]{3,8}$/.test(color)) color = '#1f4fd1';
  var left = opt('position') === 'left';
  var preload = opt('preload'); // "idle": load the chat window when the browser is idle
  var sendPage = opt('page') !== 'false' && opt('page') !== false;
  var titleBadge = opt('titleBadge') !== 'false' && opt('titleBadge') !== false;
  var customer = sanitizeCustomer(extra.customer || {
    name: ds.customerName, email: ds.customerEmail,
  });
  var here = location.origin;
  var listeners = {};
  var state = { open: false, hidden: false, unread: 0, ready: false };
  var queue = []; // messages for the frame until it says it is ready
  var host, root, bubble, badge, win, frame, activeKey = 'chatio.' + license + '.active';

  function sanitizeCustomer(c) {
    var out = {};
    if (!c || typeof c !== 'object') return out;
    if (typeof c.name === 'string') out.name = c.name.slice(0, 256);
    if (typeof c.email === 'string') out.email = c.email.slice(0, 256);
    if (c.fields && typeof c.fields === 'object') {
      out.fields = {};
      Object.keys(c.fields).slice(0, 100).forEach(function (k) {
        out.fields[String(k).slice(0, 256)] = String(c.fields[k]).slice(0, 4096);
      });
    }
    return out;
  }

  function emit(name, value) {
    (listeners[name] || []).slice().forEach(function (f) {
      try { f(value); } catch (e) { console.error(P + name + ' listener failed', e); }
    });
  }

  // Whether this page's origin may embed the widget: `self`, exact origins, or
  // `scheme://host:*` (any port of that host).
  function allowed(origins) {
    return origins.some(function (o) {
      if (o === 'self') return here === frameOrigin;
      if (/:\*$/.test(o)) {
        var stem = o.slice(0, -2);
        return here === stem || (here.indexOf(stem + ':') === 0 && /^[0-9]+$/.test(here.slice(stem.length + 1)));
      }
      return o === here;
    });
  }

  var css =
    '.r{all:initial;position:fixed;z-index:2147483647;bottom:0;' + (left ? 'left' : 'right') + ':0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color-scheme:light dark}' +
    '.b{all:initial;box-sizing:border-box;position:fixed;bottom:20px;' + (left ? 'left' : 'right') + ':20px;width:60px;height:60px;border-radius:50%;background:' + color + ';color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 16px rgba(0,0,0,.3);transition:transform .15s}' +
    '.b:hover{transform:scale(1.06)}.b:focus-visible{outline:3px solid ' + color + ';outline-offset:3px;box-shadow:0 0 0 3px #fff,0 4px 16px rgba(0,0,0,.3)}' +
    '.b svg{width:28px;height:28px;fill:currentColor;pointer-events:none}.b .x{display:none}.o .b .x{display:block}.o .b .c{display:none}' +
    '.n{all:initial;position:absolute;top:-4px;' + (left ? 'left' : 'right') + ':-4px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;border-radius:11px;background:#b3261e;color:#fff;font:700 13px/22px system-ui,sans-serif;text-align:center;border:2px solid #fff}' +
    '.n[hidden]{display:none}' +
    '.w{all:initial;position:fixed;bottom:92px;' + (left ? 'left' : 'right') + ':20px;width:min(400px,calc(100vw - 40px));height:min(680px,calc(100dvh - 112px));border-radius:14px;overflow:hidden;box-shadow:0 8px 32px rgba(0,0,0,.28);background:#fff;display:none}' +
    '.o .w{display:block}.w iframe{all:initial;display:block;width:100%;height:100%;border:0}' +
    '@media (max-width:479px),(max-height:519px){.w{inset:0;width:100vw;height:100dvh;border-radius:0}.o .b{display:none}}' +
    '@media (prefers-reduced-motion:reduce){.b{transition:none}}' +
    '.h{display:none!important}';

  function build() {
    host = d.createElement('chatio-widget');
    // Inline and !important: the host page's own CSS cannot move or hide it.
    host.setAttribute('style', 'all:initial!important;display:block!important;position:fixed!important;z-index:2147483647!important;' +
      'bottom:0!important;' + (left ? 'left' : 'right') + ':0!important;width:0!important;height:0!important;overflow:visible!important;' +
      'visibility:visible!important;opacity:1!important;transform:none!important;pointer-events:auto!important');
    root = d.createElement('div');
    root.className = 'r';
    var style = d.createElement('style');
    style.textContent = css;
    bubble = d.createElement('button');
    bubble.className = 'b';
    bubble.type = 'button';
    bubble.setAttribute('aria-label', label);
    bubble.setAttribute('aria-expanded', 'false');
    bubble.innerHTML =
      '<svg class="c" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>' +
      '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>';
    badge = d.createElement('span');
    badge.className = 'n';
    badge.hidden = true;
    badge.setAttribute('aria-hidden', 'true');
    bubble.appendChild(badge);
    bubble.addEventListener('click', function () { state.open ? api.minimize() : api.open(); });
    win = d.createElement('div');
    win.className = 'w';
    root.appendChild(win);
    root.appendChild(bubble);
    var shadow = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    shadow.appendChild(style);
    shadow.appendChild(root);
    d.documentElement.appendChild(host);
    d.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && state.open && e.target === host) api.minimize();
    });
  }

  // The chat window: an iframe from the widget's own origin (index.html), created once.
  function load() {
    if (frame) return;
    frame = d.createElement('iframe');
    frame.title = label;
    frame.setAttribute('allow', 'clipboard-write');
    frame.src = base + 'index.html?license=' + license + '#embed=' + encodeURIComponent(here);
    win.appendChild(frame);
  }

  function post(msg) {
    msg.chatio = 'host';
    if (!state.ready) return queue.push(msg);
    frame.contentWindow.postMessage(msg, frameOrigin);
  }

  function page() {
    return { url: location.href.slice(0, 2048), title: d.title.slice(0, 512), referrer: d.referrer.slice(0, 2048) };
  }

  // Unread count in the host page's title while its tab is hidden. A title the page sets
  // meanwhile (a single-page app) is the one counted on, and the one restored.
  var baseTitle = null, shownTitle = null;
  function title() {
    if (!titleBadge) return;
    if (baseTitle !== null && d.title !== shownTitle) baseTitle = d.title;
    var want = d.hidden && state.unread > 0;
    if (want) {
      if (baseTitle === null) baseTitle = d.title;
      d.title = shownTitle = '(' + state.unread + ') ' + baseTitle;
    } else if (baseTitle !== null) {
      d.title = baseTitle;
      baseTitle = shownTitle = null;
    }
  }
  d.addEventListener('visibilitychange', title);

  w.addEventListener('message', function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== frameOrigin) return;
    var m = e.data;
    if (!m || m.chatio !== 'frame' || typeof m.type !== 'string') return;
    if (m.type === 'ready') {
      state.ready = true;
      frame.contentWindow.postMessage({ chatio: 'host', type: 'init', visible: state.open, page: sendPage ? page() : null, customer: customer }, frameOrigin);
      queue.splice(0).forEach(function (q) { frame.contentWindow.postMessage(q, frameOrigin); });
      emit('ready');
    } else if (m.type === 'unread' && typeof m.count === 'number' && m.count >= 0) {
      state.unread = Math.floor(m.count);
      badge.textContent = state.unread > 99 ? '99+' : String(state.unread);
      badge.hidden = state.unread === 0;
      bubble.setAttribute('aria-label', state.unread ? label + ' (' + state.unread + ' unread)' : label);
      title();
      emit('unread', state.unread);
    } else if (m.type === 'minimize') {
      api.minimize();
    } else if (m.type === 'active') {
      try { m.value ? localStorage.setItem(activeKey, '1') : localStorage.removeItem(activeKey); } catch (err) { /* storage off */ }
    }
  });

  var api = {
    version: 1,
    /** Opens the chat window (loading it on first use). */
    open: function () {
      if (!root) return;
      load();
      state.open = true;
      state.hidden = false;
      host.classList.remove('h');
      root.className = 'r o';
      bubble.setAttribute('aria-expanded', 'true');
      bubble.setAttribute('aria-label', 'Minimize the chat');
      post({ type: 'visible', value: true });
      frame.focus();
      emit('open');
    },
    /** Folds the window back into the bubble; the chat goes on (unread count on the bubble). */
    minimize: function () {
      if (!root || !state.open) return;
      state.open = false;
      root.className = 'r';
      bubble.setAttribute('aria-expanded', 'false');
      bubble.setAttribute('aria-label', label);
      post({ type: 'visible', value: false });
      bubble.focus();
      emit('minimize');
    },
    /** Hides the window and the bubble; open() brings them back. */
    close: function () {
      if (!root) return;
      if (state.open) api.minimize();
      root.className = 'r h';
      emit('close');
    },
    /** Name, e-mail and custom fields of the visitor, for the agent. */
    setCustomer: function (c) {
      customer = sanitizeCustomer(c);
      if (frame) post({ type: 'customer', customer: customer });
    },
    /** Tells the agent the page changed (single-page apps). */
    setPage: function () {
      if (frame && sendPage) post({ type: 'page', page: page() });
    },
    /** on('ready' | 'open' | 'minimize' | 'close' | 'unread', fn) */
    on: function (name, f) {
      (listeners[name] = listeners[name] || []).push(f);
    },
    off: function (name, f) {
      listeners[name] = (listeners[name] || []).filter(function (g) { return g !== f; });
    },
    get unread() { return state.unread; },
    get isOpen() { return state.open; },
  };
  function start() {
    w.chatio = api; // only where the widget may run
    build();
    emit('loaded');
    var wantsIdle = preload === 'idle';
    try { wantsIdle = wantsIdle || localStorage.getItem(activeKey) === '1'; } catch (e) { /* storage off */ }
    if (opt('open') === 'true' || opt('open') === true) api.open();
    else if (wantsIdle) (w.requestIdleCallback || function (f) { setTimeout(f, 2000); })(load);
  }

  // Which sites may embed this license's widget (the server's answer, or the static
  // host's embed.json): refused here, nothing is shown and nothing else is loaded.
  fetch(base + 'embed.json?license=' + license, { credentials: 'omit' })
    .then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    })
    .then(function (cfg) {
      var origins = cfg && Array.isArray(cfg.origins) ? cfg.origins : [];
      if (!allowed(origins)) {
        console.error(P + 'this site (' + here + ') may not embed the chat of license ' + license +
          '; allowed: ' + (origins.join(', ') || 'none') + '. Register the origin with the chat server.');
        return;
      }
      start();
    })
    .catch(function (e) {
      console.error(P + 'the chat widget cannot start: ' + base + 'embed.json: ' + e.message);
    });
})();
