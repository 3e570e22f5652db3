// The published dist bundle of @livechat/chat.io-customer-sdk 0.9.1, with its hard-coded
// service addresses pointed at a local server. Nothing else is changed: the three
// substitutions below must each match exactly as many times as listed, or this throws (a
// different bundle is refused rather than half-patched).
//
//   'https://api' + (env !== 'production' ? '.' + env : '') + '.chat.io/customer/v0.5'
//       → '<origin>/customer/v0.5'                (the RTM socket.io URL and the Web API)
//   "https://accounts.livechatinc.com"  (×3)  → "<origin>"   (the accounts iframe's src; one is in a comment)
//   'https://accounts.livechatinc.com'  (×1)  → '<origin>'   (the origin postMessage must come from)
'use strict';

const fs = require('fs');
const path = require('path');

const SUBSTITUTIONS = [
  { from: "'https://api' + (env !== 'production' ? '.' + env : '') + '.chat.io/customer/v0.5'", to: (o) => `'${o}/customer/v0.5'`, count: 1 },
  { from: '"https://accounts.livechatinc.com"', to: (o) => `"${o}"`, count: 3 },
  { from: "'https://accounts.livechatinc.com'", to: (o) => `'${o}'`, count: 1 },
];

/** The bundle's source with the addresses replaced by `origin` (e.g. http://127.0.0.1:8080). */
function patchedSource(pkgDir, origin) {
  let src = fs.readFileSync(path.join(pkgDir, 'dist', 'chat.io-customer-sdk.js'), 'utf8');
  for (const s of SUBSTITUTIONS) {
    const n = src.split(s.from).length - 1;
    if (n !== s.count) throw new Error(`bundle: expected ${s.count} occurrence(s) of ${s.from}, found ${n}`);
    src = src.split(s.from).join(s.to(origin));
  }
  return src;
}

/** Writes the patched bundle next to the package and loads a fresh instance of it. */
function load(pkgDir, origin, tag) {
  const file = path.join(pkgDir, `chat.io-customer-sdk.local-${new URL(origin).port}-${tag || 0}.js`);
  fs.writeFileSync(file, patchedSource(pkgDir, origin));
  delete require.cache[require.resolve(file)];
  return require(file);
}

module.exports = { patchedSource, load };
