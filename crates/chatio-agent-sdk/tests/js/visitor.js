// A visitor on the real @livechat/chat.io-customer-sdk 0.9.1 (its published dist bundle,
// loaded by the server's JS harness, `chatio-server/tests/js/`), talking to an agent on our
// agent SDK (the Rust test that starts this script): starts a chat, waits for the agent's
// greeting, answers, waits for the agent to close the thread.
//
// usage: node visitor.js <package dir> <server origin> <path of the `ws` module> <harness dir>
// Prints `ok - …` lines and `chat <id>`; exits 1 on any failure.
'use strict';

const assert = require('assert');
const path = require('path');

const [pkgDir, origin, wsPath, harness] = process.argv.slice(2);
const env = require(path.join(harness, 'browser_env.js'));
const bundle = require(path.join(harness, 'sdk_bundle.js'));
env.install({ pageUrl: 'http://127.0.0.1:1/agent-test/page.html', WebSocket: require(wsPath) });

const LIMIT = 30000;

function withTimeout(p, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out: ${what}`)), LIMIT); })])
    .finally(() => clearTimeout(t));
}

async function main() {
  const { init } = bundle.load(pkgDir, origin, 1);
  const sdk = init({ license: 100, clientId: 'chatio-agent-sdk-tests' });
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
  const wait = (type, pred) => {
    const old = seen.find((e) => e.type === type && pred(e.payload));
    if (old) return Promise.resolve(old.payload);
    return withTimeout(new Promise((resolve) => waiters.push({ type, pred, resolve })), `event ${type}`);
  };
  const customer = await wait('customer_id', () => true);
  await wait('connected', () => true);
  await sdk.updateCustomer({ name: 'Jo from Node' });
  const chat = await sdk.startChat();
  console.log(`chat ${chat.id}`);
  await sdk.sendMessage(chat.id, { text: 'Hello from the JS SDK' });
  console.log('ok - the JS SDK started a chat with a message');

  const greeting = await wait('new_event', (p) => p.chat === chat.id && p.event.type === 'message' && p.event.author !== customer);
  assert.strictEqual(greeting.event.text, 'Hi Jo, Jane here. How can I help?');
  console.log('ok - the agent\'s greeting reached the JS SDK');
  const agent = greeting.event.author;

  await sdk.sendMessage(chat.id, { text: 'Where is my parcel?' });
  console.log('ok - the JS SDK answered');
  const answer = await wait('new_event', (p) => p.chat === chat.id && p.event.author === agent && p.event.text !== greeting.event.text);
  assert.strictEqual(answer.event.text, 'It left the warehouse today.');
  console.log('ok - the agent\'s answer reached the JS SDK');
  await wait('thread_closed', (p) => p.chat === chat.id);
  console.log('ok - the agent closed the thread');
  sdk.destroy();
}

main().then(() => process.exit(0), (e) => { console.log(`not ok - ${e && e.stack || e}`); process.exit(1); });
