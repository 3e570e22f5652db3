// Feeds recorded frames through @livechat/chat.io-customer-sdk 0.9.1's own parse-and-dispatch
// path (JSON.parse, socketListener's message handler, serverDataParser, the redux store with
// its side effects, the mitt emitter) and prints pushes per second as JSON.
//
// usage: node bench.js <sdk package dir> <frames file, one JSON frame per line> [seconds]
'use strict';

const path = require('path');
const fs = require('fs');

const [pkgDir, framesFile, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 3);
const lib = (name) => require(path.join(pkgDir, 'lib', name));
const createStore = lib('createStore').default;
const socketListener = lib('socketListener').default;
const mitt = require('mitt');

const frames = fs.readFileSync(framesFile, 'utf8').split('\n').filter((l) => l.trim().length > 0);

// A socket that only records the SDK's handlers, and an auth that is never called.
const handlers = {};
const socket = {
  on: (name, fn) => { handlers[name] = fn; },
  off: () => {},
  emit: () => {},
  connect: () => {},
  disconnect: () => {},
};
const auth = { getToken: () => new Promise(() => {}), getFreshToken: () => new Promise(() => {}) };
const emitter = mitt();
let events = 0;
emitter.on('*', () => { events += 1; });
const store = createStore({ license: 100, env: 'production' }, emitter.emit, socket, auth);
socketListener(store, socket, auth);
const onMessage = handlers.message;

// Warm up, then run for the given time.
for (let i = 0; i < 20000; i++) onMessage(JSON.parse(frames[i % frames.length]));
let n = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
let now = start;
while (now < deadline) {
  for (let i = 0; i < 1000; i++) {
    onMessage(JSON.parse(frames[n % frames.length]));
    n += 1;
  }
  now = process.hrtime.bigint();
}
const elapsed = Number(now - start) / 1e9;
console.log(JSON.stringify({ pushes: n, seconds: elapsed, pushes_per_second: n / elapsed, events }));
