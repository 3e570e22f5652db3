// The JS SDK's half of `cargo xtask bench vs-js` (ours: crates/chatio-conformance/examples/vs_js.rs,
// the same scenario): the real @livechat/chat.io-customer-sdk 0.9.1 dist bundle (addresses
// pointed at the server) under Node, through socket.io, against a running reference server.
//
// usage: node --expose-gc vs_js.js <package dir> <server origin> <ws module> [messages] [sessions] [seconds]
// Prints one JSON object.
'use strict';

const path = require('path');
const testsJs = path.join(__dirname, '..', '..', 'crates', 'chatio-server', 'tests', 'js');
const env = require(path.join(testsJs, "browser_env.js"));
const bundle = require(path.join(testsJs, 'sdk_bundle.js'));

const [pkgDir, origin, wsPath, nArg, sArg, tArg] = process.argv.slice(2);
const N = Number(nArg || 2000);
const SESSIONS = Number(sArg || 1000);
const SECONDS = Number(tArg || 20);

// Every session is its own visitor: no shared token storage, no accounts cookie.
const noStorage = { getItem: () => null, setItem: () => {}, removeItem: () => {}, clear: () => {}, key: () => null, length: 0 };
env.install({ pageUrl: 'http://127.0.0.1:1/bench/', WebSocket: require(wsPath), cookies: false, localStorage: noStorage });
const { init } = bundle.load(pkgDir, origin, 'bench');

const gc = () => { if (global.gc) { global.gc(); global.gc(); } };
const now = () => Number(process.hrtime.bigint()) / 1e6;
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))] : 0);

// Sessions whose `connected` never came (see docs/benchmarks.md: an intermittent stall of
// the login under the JS SDK, not understood yet); each is destroyed and replaced, and
// counted in the output.
let stalls = 0;

function attempt() {
  return new Promise((resolve, reject) => {
    const sdk = init({ license: 100, clientId: 'bench' });
    const t = setTimeout(() => { sdk.destroy(); resolve(null); }, 10000);
    sdk.on('connected', () => {
      clearTimeout(t);
      sdk.startChat().then((chat) => resolve({ sdk, chat: chat.id }), reject);
    });
  });
}

async function session() {
  for (let i = 0; i < 5; i++) {
    const s = await attempt();
    if (s) return s;
    stalls += 1;
    if (process.env.VS_JS_DEBUG) console.error('a session did not connect in 10 s: replaced');
  }
  throw new Error('5 sessions in a row did not connect');
}

// The CPU time this process has used, user + system, in ms: /proc/self/stat fields 14 and
// 15 in clock ticks of 10 ms (USER_HZ 100), every thread counted — as the Rust half reads it.
function cpuMs() {
  const stat = require('fs').readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function burst(s, n, window) {
  const lat = [];
  const start = now();
  let next = 0;
  await new Promise((resolve, reject) => {
    let inflight = 0;
    const pump = () => {
      while (inflight < window && next < n) {
        const i = next++;
        inflight += 1;
        const t = now();
        s.sdk.sendMessage(s.chat, { text: `m${i}` }).then(() => {
          lat.push(now() - t);
          inflight -= 1;
          if (lat.length === n) resolve(); else pump();
        }, reject);
      }
    };
    pump();
  });
  const rate = n / ((now() - start) / 1000);
  lat.sort((a, b) => a - b);
  return { rate, lat };
}

(async () => {
  const one = await session();
  await burst(one, Math.floor(N / 10), 64); // warm up
  let cpu = cpuMs();
  const seq = await burst(one, N, 1);
  const seqCpu = ((cpuMs() - cpu) * 1000) / N;
  cpu = cpuMs();
  const win = await burst(one, N, 64);
  const winCpu = ((cpuMs() - cpu) * 1000) / N;
  one.sdk.destroy();

  gc();
  await new Promise((r) => setTimeout(r, 500));
  const before = process.memoryUsage().rss;
  const all = [];
  // One after the other: the token library's iframe answers are told apart only by a fixed
  // state string, so concurrent inits in one window would share a token.
  for (let i = 0; i < SESSIONS; i++) {
    if (process.env.VS_JS_DEBUG) console.error(`session ${i}`);
    all.push(await session());
  }
  await new Promise((r) => setTimeout(r, 2000));
  gc();
  const idlePerSession = (process.memoryUsage().rss - before) / SESSIONS;

  const start = now();
  const load = [];
  await Promise.all(all.map((s, i) => (async () => {
    const offset = (i * 1000) / SESSIONS;
    for (let k = 0; k < SECONDS; k++) {
      const wait = start + offset + k * 1000 - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = now();
      await s.sdk.sendMessage(s.chat, { text: `tick ${k}` });
      load.push(now() - t);
    }
  })()));
  load.sort((a, b) => a - b);
  for (const s of all) s.sdk.destroy();
  console.log(JSON.stringify({
    client: `@livechat/chat.io-customer-sdk 0.9.1 (Node ${process.version}, socket.io)`,
    seq_msgs_per_s: seq.rate, seq_p50_ms: percentile(seq.lat, 0.5), seq_p99_ms: percentile(seq.lat, 0.99),
    win64_msgs_per_s: win.rate, win64_p50_ms: percentile(win.lat, 0.5), win64_p99_ms: percentile(win.lat, 0.99),
    seq_cpu_us_per_msg: seqCpu, win64_cpu_us_per_msg: winCpu,
    sessions: SESSIONS, idle_rss_per_session_kib: idlePerSession / 1024,
    connect_stalls: stalls,
    load_messages: load.length, load_p50_ms: percentile(load, 0.5), load_p99_ms: percentile(load, 0.99),
  }));
  process.exit(0);
})().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
