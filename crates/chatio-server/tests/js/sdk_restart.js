// The real @livechat/chat.io-customer-sdk 0.9.1 across a restart of the server on its data
// directory (issue 22): a conversation, then the server is stopped and started again on the
// same address and data; the SDK reconnects by itself, the same customer goes on in the
// same chat, and the history holds every message once.
//
// usage: node sdk_restart.js <package dir> <server origin> <path of the `ws` module> <flag dir>
// The restart is the test's: this script creates <flag dir>/restart.request and waits for
// <flag dir>/restart.done. Prints `restart: all checks passed` and exits 0, or exits 1.
'use strict';

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const env = require('./browser_env.js');
const bundle = require('./sdk_bundle.js');

const [pkgDir, origin, wsPath, flagDir] = process.argv.slice(2);
const browser = env.install({ pageUrl: 'http://127.0.0.1:1/harness/page.html', WebSocket: require(wsPath) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every SDK event, and a wait for the first one of a type (from a mark) matching `pred`. */
function recorder(sdk) {
  const seen = [];
  sdk[Symbol.observable]().subscribe({ next: ([type, payload]) => seen.push({ type, payload }) });
  return {
    mark: () => seen.length,
    async wait(type, pred = () => true, ms = 15000, from = 0) {
      const deadline = Date.now() + ms;
      for (;;) {
        const e = seen.slice(from).find((x) => x.type === type && pred(x.payload));
        if (e) return e.payload;
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${type}`);
        await sleep(50);
      }
    },
  };
}

/** Every message text of a chat's history, oldest first. */
async function historyTexts(sdk, chat) {
  const history = sdk.getChatHistory(chat);
  const texts = [];
  for (let i = 0; i < 50; i++) {
    const r = await history.next();
    if (r.value) texts.unshift(...r.value.filter((e) => e.type === 'message').map((e) => e.text));
    if (r.done) break;
  }
  return texts;
}

(async () => {
  const { init } = bundle.load(pkgDir, origin, 1);
  const sdk = init({ license: 100, clientId: 'chatio-harness' });
  const rec = recorder(sdk);
  const customer = await rec.wait('customer_id');
  await rec.wait('connected');
  const chat = await sdk.startChat();
  await sdk.sendMessage(chat.id, { text: 'before the restart', customId: 'before-1' });
  await rec.wait('new_event', (p) => p.chat === chat.id && p.event.text === 'You said: before the restart');
  console.log(`the conversation started: customer ${customer}, chat ${chat.id}`);

  const from = rec.mark();
  fs.writeFileSync(path.join(flagDir, 'restart.request'), '');
  await rec.wait('connection_lost', () => true, 30000, from);
  for (let i = 0; !fs.existsSync(path.join(flagDir, 'restart.done')); i++) {
    if (i > 1200) throw new Error('the server was not restarted in 60 s');
    await sleep(50);
  }
  const restored = await rec.wait('connection_restored', () => true, 60000, from);
  console.log('reconnected by itself after the restart');
  assert.strictEqual(restored.totalChats, 1, 'the same customer, with its chat');
  assert.strictEqual(restored.chatsSummary[0].id, chat.id);
  const token = await sdk.auth.getToken();
  assert.strictEqual(token.entityId, customer, 'the same customer');

  const ev = await sdk.sendMessage(chat.id, { text: 'after the restart', customId: 'after-1' });
  assert.strictEqual(ev.text, 'after the restart');
  await rec.wait('new_event', (p) => p.chat === chat.id && p.event.text === 'You said: after the restart', 15000, from);
  const texts = await historyTexts(sdk, chat.id);
  const mine = texts.filter((t) => t.endsWith('the restart'));
  assert.deepStrictEqual(mine, ['before the restart', 'You said: before the restart', 'after the restart', 'You said: after the restart'],
    `the history, each once and in order: ${JSON.stringify(texts)}`);
  console.log('restart: all checks passed');
  sdk.destroy();
  process.exit(0);
})().catch((e) => {
  console.log(`restart: failed: ${e && e.stack ? e.stack : JSON.stringify(e)}`);
  process.exit(1);
});
