// The real @livechat/chat.io-customer-sdk 0.9.1 (its published dist bundle, only its service
// addresses pointed at the local server) driven through its public API against
// chatio-server, in Node. Every method and event of the SDK's documentation, sendFile with
// progress, history paging across many threads, reconnection after the server drops the
// socket, an expired token, a ban.
//
// usage: node sdk_node.js <package dir> <server origin> <path of the `ws` module> <admin secret>
// The server must run with --admin (fault injection) and its scripted agent on.
// Prints one line per test (`ok - …` / `not ok - …`) and exits 1 if any failed.
'use strict';

const assert = require('assert');
const env = require('./browser_env.js');
const bundle = require('./sdk_bundle.js');

const [pkgDir, origin, wsPath, adminSecret] = process.argv.slice(2);
const adminAuth = { authorization: `Bearer ${adminSecret}` };
const LICENSE = 100;
const browser = env.install({ pageUrl: 'http://127.0.0.1:1/harness/page.html', WebSocket: require(wsPath) });

// ------------------------------------------------------------------ helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms); })])
    .finally(() => clearTimeout(t));
}

/** Records every SDK event (through the observable) and waits for matching ones. */
function recorder(sdk) {
  const seen = [];
  const waiters = [];
  sdk[Symbol.observable]().subscribe({
    next: ([type, payload]) => {
      seen.push({ type, payload });
      for (const w of waiters.slice()) {
        if (w.type === type && w.pred(payload)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(payload); }
      }
    },
  });
  return {
    seen,
    /** Resolves with the first event `type` (already seen since `from`, or future) matching `pred`. */
    wait(type, pred = () => true, ms = 10000, from = 0) {
      const old = seen.slice(from).find((e) => e.type === type && pred(e.payload));
      if (old) return Promise.resolve(old.payload);
      return withTimeout(new Promise((resolve) => waiters.push({ type, pred, resolve })), ms, `event ${type}`);
    },
    mark() { return seen.length; },
  };
}

async function admin(op, customer, extra = '') {
  const res = await fetch(`${origin}/admin/${op}?license_id=${LICENSE}&customer_id=${encodeURIComponent(customer)}${extra}`, { method: 'POST', headers: adminAuth });
  assert.strictEqual(res.status, 200, `admin ${op}: ${await res.text()}`);
}

async function serverEvents(chat) {
  const res = await fetch(`${origin}/admin/events?license_id=${LICENSE}&chat_id=${chat}`, { headers: adminAuth });
  assert.strictEqual(res.status, 200);
  return (await res.json()).events;
}

let instances = 0;
/** A fresh visitor: a new bundle instance (its own token memory), no accounts cookie. */
async function visitor() {
  browser.clearCookies();
  instances += 1;
  const { init } = bundle.load(pkgDir, origin, instances);
  const sdk = init({ license: LICENSE, clientId: 'chatio-harness' });
  const rec = recorder(sdk);
  const customer = await rec.wait('customer_id');
  const connected = await rec.wait('connected');
  return { sdk, rec, customer, connected };
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const ctx = {};

// ------------------------------------------------------------------ the tests
test('init: customer_id, connected with an empty summary (token from the accounts iframe, socket.io login)', async () => {
  Object.assign(ctx, await visitor());
  assert.match(ctx.customer, /^[0-9a-f-]{36}$/);
  assert.deepStrictEqual(ctx.connected, { chatsSummary: [], totalChats: 0 });
  const token = await ctx.sdk.auth.getToken();
  assert.strictEqual(token.entityId, ctx.customer);
  assert.strictEqual(token.tokenType, 'Bearer');
  assert.ok(token.expiresIn > 0 && typeof token.accessToken === 'string');
});

test('the transport upgraded from polling to a websocket', async () => {
  for (let i = 0; i < 50 && browser.stats.websocketsOpened === 0; i++) await sleep(100);
  assert.ok(browser.stats.websocketsOpened >= 1, 'no websocket opened');
});

test('startChat resolves the chat; thread_summary, user_data; the agent joins (user_joined_chat, new_event system_message)', async () => {
  const { sdk, rec } = ctx;
  const from = rec.mark();
  const chat = await sdk.startChat({ properties: { source: { page: 'harness' } } });
  assert.match(chat.id, /^[0-9A-Z]{10}$/);
  assert.strictEqual(chat.threads.length, 1);
  assert.deepStrictEqual(chat.users, [ctx.customer]);
  ctx.chat = chat.id;
  ctx.thread = chat.threads[0];
  const ts = await rec.wait('thread_summary', (p) => p.chat === chat.id, 15000, from);
  assert.strictEqual(ts.id, ctx.thread);
  const joined = await rec.wait('user_joined_chat', (p) => p.chat === chat.id, 15000, from);
  ctx.agent = joined.user;
  await rec.wait('user_data', (p) => p.id === ctx.agent && p.type === 'agent' && p.name === 'Chatio Bot', 15000, from);
  await rec.wait('new_event', (p) => p.chat === chat.id && p.event.type === 'system_message', 15000, from);
});

test('sendMessage resolves the event (customId kept); the agent types and answers', async () => {
  const { sdk, rec } = ctx;
  const from = rec.mark();
  const ev = await sdk.sendMessage(ctx.chat, { text: 'hello 😀 ünïcode', customId: 'c-1' });
  assert.strictEqual(ev.type, 'message');
  assert.strictEqual(ev.text, 'hello 😀 ünïcode');
  assert.strictEqual(ev.customId, 'c-1');
  assert.strictEqual(ev.author, ctx.customer);
  assert.strictEqual(ev.thread, ctx.thread);
  assert.ok(ev.timestamp > 1e12, 'timestamp in ms');
  await rec.wait('user_is_typing', (p) => p.chat === ctx.chat && p.user === ctx.agent, 15000, from);
  const answer = await rec.wait('new_event', (p) => p.event.author === ctx.agent && /hello 😀 ünïcode/.test(p.event.text || ''), 15000, from);
  assert.strictEqual(answer.event.type, 'message');
  await rec.wait('user_stopped_typing', (p) => p.chat === ctx.chat && p.user === ctx.agent, 15000, from);
});

test('sendEvent resolves the event', async () => {
  const ev = await ctx.sdk.sendEvent(ctx.chat, { type: 'message', text: 'via sendEvent' });
  assert.strictEqual(ev.text, 'via sendEvent');
  assert.strictEqual(ev.thread, ctx.thread);
});

test('a failed request rejects with REQUEST_FAILED and the server error', async () => {
  await assert.rejects(ctx.sdk.sendMessage('NOSUCHCHAT', { text: 'x' }), (e) => e.code === 'REQUEST_FAILED' && typeof e.type === 'string' && typeof e.message === 'string');
  await assert.rejects(ctx.sdk.getChatsSummary({ limit: 26 }), (e) => e.code === 'INVALID_ARGS');
});

test('updateChatProperties, updateChatThreadProperties resolve {success:true}; the agent\'s /props → chat_properties_updated, chat_thread_properties_updated', async () => {
  const { sdk, rec } = ctx;
  assert.deepStrictEqual(await sdk.updateChatProperties(ctx.chat, { rating: { score: 1 } }), { success: true });
  assert.deepStrictEqual(await sdk.updateChatThreadProperties(ctx.chat, ctx.thread, { harness: { step: 'props' } }), { success: true });
  const from = rec.mark();
  await sdk.sendMessage(ctx.chat, { text: '/props' });
  const cp = await rec.wait('chat_properties_updated', (p) => p.chat === ctx.chat, 15000, from);
  assert.strictEqual(typeof cp.properties, 'object');
  const tp = await rec.wait('chat_thread_properties_updated', (p) => p.chat === ctx.chat, 15000, from);
  assert.strictEqual(tp.thread, ctx.thread);
});

test('updateCustomer resolves {success:true}', async () => {
  assert.deepStrictEqual(await ctx.sdk.updateCustomer({ name: 'Ann', email: 'ann@example.com', fields: { plan: 'gold' } }), { success: true });
});

test('updateLastSeenTimestamp resolves {timestamp} in ms; the agent\'s /seen → last_seen_timestamp_updated', async () => {
  const { sdk, rec } = ctx;
  const r = await sdk.updateLastSeenTimestamp(ctx.chat);
  assert.ok(Math.abs(r.timestamp - Date.now()) < 120000, `timestamp ${r.timestamp}`);
  const from = rec.mark();
  await sdk.sendMessage(ctx.chat, { text: '/seen' });
  const seen = await rec.wait('last_seen_timestamp_updated', (p) => p.chat === ctx.chat && p.user === ctx.agent, 15000, from);
  assert.ok(seen.timestamp > 1e12);
});

test('setSneakPeek is sent without breaking the session', async () => {
  ctx.sdk.setSneakPeek(ctx.chat, 'I am typi');
  await sleep(50);
  const ev = await ctx.sdk.sendMessage(ctx.chat, { text: 'after the peek' });
  assert.strictEqual(ev.text, 'after the peek');
});

test('the agent\'s pushes: rich message, form, custom, annotation, system message, incoming_multicast, chat_scopes_updated', async () => {
  const { sdk, rec } = ctx;
  const from = rec.mark();
  for (const c of ['/rich', '/form', '/custom', '/annotation', '/system', '/multicast', '/scopes']) await sdk.sendMessage(ctx.chat, { text: c });
  for (const type of ['rich_message', 'filled_form', 'custom', 'annotation', 'system_message']) {
    await rec.wait('new_event', (p) => p.chat === ctx.chat && p.event.type === type && p.event.author !== ctx.customer, 15000, from);
  }
  await rec.wait('incoming_multicast', () => true, 15000, from);
  const scopes = await rec.wait('chat_scopes_updated', () => true, 15000, from);
  assert.strictEqual(scopes.chat_id, ctx.chat, 'raw snake_case payload');
});

test('getChatsSummary: the chat, its last event, last seen timestamps', async () => {
  const s = await ctx.sdk.getChatsSummary({ offset: 0, limit: 10 });
  assert.strictEqual(s.totalChats, 1);
  const c = s.chatsSummary[0];
  assert.strictEqual(c.id, ctx.chat);
  assert.ok(c.users.includes(ctx.customer) && c.users.includes(ctx.agent));
  assert.ok(c.lastEvent && c.lastEvent.id, 'lastEvent');
  assert.ok(c.lastSeenTimestamps[ctx.customer] > 1e12, 'customer last seen');
  assert.ok(c.order > 1e12, 'order as a time');
});

test('getChatThreadsSummary counts events (events_count) and getChatThreads returns them', async () => {
  const s = await ctx.sdk.getChatThreadsSummary(ctx.chat);
  assert.strictEqual(s.totalThreads, 1);
  const events = await serverEvents(ctx.chat);
  assert.strictEqual(s.threadsSummary[0].totalEvents, events.length);
  const threads = await ctx.sdk.getChatThreads(ctx.chat, [ctx.thread]);
  assert.strictEqual(threads.length, 1);
  assert.deepStrictEqual(threads[0].events.map((e) => e.id), events.map((e) => e.id));
  assert.strictEqual(threads[0].active, true);
});

test('sendFile uploads with progress; the file event arrives with its image size', async () => {
  const { sdk, rec } = ctx;
  const png = Buffer.from(await (await fetch(`${origin}/static/bot.png`)).arrayBuffer());
  const bytes = Buffer.concat([png, Buffer.alloc(600 * 1024)]); // trailing bytes after IEND
  const progress = [];
  const from = rec.mark();
  const res = await sdk.sendFile(ctx.chat, { file: new File([bytes], 'bot.png', { type: 'image/png' }), customId: 'f-1' }, { onProgress: (p) => progress.push(p) });
  assert.match(res.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/file\//);
  assert.ok(progress.length >= 3, `progress ${JSON.stringify(progress)}`);
  assert.strictEqual(progress[progress.length - 1], 1);
  assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]), 'monotonic');
  const ev = await rec.wait('new_event', (p) => p.event.type === 'file' && p.event.url === res.url, 15000, from);
  assert.strictEqual(ev.event.width, 48);
  assert.strictEqual(ev.event.height, 48);
  assert.strictEqual(ev.event.contentType, 'image/png');
  const back = Buffer.from(await (await fetch(res.url)).arrayBuffer());
  assert.ok(back.equals(bytes), 'the stored file is what was sent');
});

test('sendFile can be cancelled', async () => {
  const up = ctx.sdk.sendFile(ctx.chat, { file: new File([Buffer.alloc(5 * 1024 * 1024)], 'big.bin') }, { onProgress: () => up.cancel() });
  await assert.rejects(up, (e) => e.code === 'CANCELLED');
});

test('on/off: a removed listener is not called', async () => {
  const { sdk, rec } = ctx;
  let calls = 0;
  const h = () => { calls += 1; };
  sdk.on('new_event', h);
  sdk.off('new_event', h);
  const from = rec.mark();
  await sdk.sendMessage(ctx.chat, { text: '/echo off' });
  await rec.wait('new_event', (p) => p.event.text === 'off', 15000, from);
  assert.strictEqual(calls, 0);
});

test('closeThread resolves {success:true}; the next message opens a thread; the agent\'s /close → thread_closed, /leave → user_left_chat', async () => {
  const { sdk, rec } = ctx;
  assert.deepStrictEqual(await sdk.closeThread(ctx.chat), { success: true });
  let from = rec.mark();
  const ev = await sdk.sendMessage(ctx.chat, { text: 'a new thread' });
  assert.notStrictEqual(ev.thread, ctx.thread);
  ctx.thread = ev.thread;
  await rec.wait('thread_summary', (p) => p.id === ev.thread, 15000, from);
  await sdk.sendMessage(ctx.chat, { text: '/close' });
  await rec.wait('thread_closed', (p) => p.chat === ctx.chat, 15000, from);
  from = rec.mark();
  await sdk.sendMessage(ctx.chat, { text: '/leave' });
  await rec.wait('user_left_chat', (p) => p.chat === ctx.chat && p.user === ctx.agent, 15000, from);
});

test('getChatHistory pages through 30 threads (more than one summary page) and returns every event once, in order', async () => {
  const { sdk } = ctx;
  const chat = await sdk.startChat();
  for (let i = 0; i < 30; i++) {
    if (i > 0) await sdk.sendMessage(chat.id, { text: `/echo thread ${i}` });
    else await sdk.sendMessage(chat.id, { text: '/echo thread 0' });
    await sleep(30); // the agent's answer lands in the thread
    await sdk.closeThread(chat.id);
  }
  await sleep(300);
  const want = (await serverEvents(chat.id)).map((e) => e.id);
  const history = sdk.getChatHistory(chat.id);
  const pages = [];
  for (let i = 0; i < 100; i++) {
    const r = await history.next();
    if (r.value) pages.push(r.value.map((e) => e.id));
    if (r.done) break;
  }
  assert.ok(pages.length >= 2, `pages: ${pages.length}`);
  // Pages go back in time: the last page holds the oldest events.
  const got = pages.slice().reverse().flat();
  assert.deepStrictEqual(got, want);
  const s = await sdk.getChatThreadsSummary(chat.id, { offset: 0, limit: 25 });
  assert.strictEqual(s.totalThreads, 30);
  assert.strictEqual(s.threadsSummary.length, 25);
});

test('reconnect after the server drops the socket: connection_lost, connection_restored, requests work again', async () => {
  const { sdk, rec } = ctx;
  const from = rec.mark();
  const opened = browser.stats.websocketsOpened;
  await admin('drop', ctx.customer);
  await rec.wait('connection_lost', () => true, 15000, from);
  const restored = await rec.wait('connection_restored', () => true, 15000, from);
  assert.strictEqual(restored.totalChats, 2);
  const ev = await sdk.sendMessage(ctx.chat, { text: 'after the drop' });
  assert.strictEqual(ev.text, 'after the drop');
  for (let i = 0; i < 50 && browser.stats.websocketsOpened === opened; i++) await sleep(100);
  assert.ok(browser.stats.websocketsOpened > opened, 'upgraded again after the reconnect');
});

test('an expired token: the re-login fails with authentication, a fresh token (same customer) is fetched, the session resumes', async () => {
  const { sdk, rec } = ctx;
  const before = await sdk.auth.getToken();
  const from = rec.mark();
  await admin('expire_tokens', ctx.customer);
  await admin('drop', ctx.customer);
  await rec.wait('connection_restored', () => true, 15000, from);
  const after = await sdk.auth.getToken();
  assert.notStrictEqual(after.accessToken, before.accessToken, 'a fresh token');
  assert.strictEqual(after.entityId, ctx.customer, 'the accounts cookie kept the customer');
  const s = await sdk.getChatsSummary();
  assert.strictEqual(s.totalChats, 2);
});

test('a second visitor is another customer; a ban sends disconnected {reason: customer_banned} and the SDK stays away', async () => {
  const other = await visitor();
  assert.notStrictEqual(other.customer, ctx.customer);
  const chat = await other.sdk.startChat();
  assert.ok(chat.id);
  const from = other.rec.mark();
  await admin('ban', other.customer);
  const d = await other.rec.wait('disconnected', () => true, 15000, from);
  assert.deepStrictEqual(d, { reason: 'customer_banned' });
  await other.rec.wait('connection_lost', () => true, 15000, from);
  await sleep(1500);
  assert.ok(!other.rec.seen.slice(from).some((e) => e.type === 'connection_restored'), 'no reconnect after a ban');
  await admin('unban', other.customer);
  other.sdk.destroy();
  // The first customer's session is untouched.
  const ev = await ctx.sdk.sendMessage(ctx.chat, { text: 'still here' });
  assert.strictEqual(ev.text, 'still here');
});

test('disconnect() closes the session: pending requests fail with CONNECTION_LOST', async () => {
  const v = await visitor();
  const from = v.rec.mark();
  const pending = v.sdk.getChatsSummary();
  v.sdk.disconnect();
  await v.rec.wait('connection_lost', () => true, 15000, from);
  await assert.rejects(pending, (e) => e.code === 'CONNECTION_LOST');
});

// ------------------------------------------------------------------ runner
(async () => {
  let failed = 0;
  for (const t of tests) {
    const started = Date.now();
    try {
      await withTimeout(t.fn(), 60000, t.name);
      console.log(`ok - ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed += 1;
      console.log(`not ok - ${t.name}: ${e && e.stack ? e.stack : JSON.stringify(e)}`);
      if (!ctx.sdk) break;
    }
  }
  console.log(`${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
