// Starts the agent page: the sign-in form never submits the browser's way (the token must
// not end up in a URL), then the wasm loads and enables the form. `cargo xtask widget`
// rewrites the two file names below to their hashed names.
import init from './chatio_agent_web.js';

document.getElementById('signin').addEventListener('submit', (e) => e.preventDefault());

init({ module_or_path: new URL('./chatio_agent_web_bg.wasm', import.meta.url) }).catch((e) => {
  const status = document.getElementById('status');
  status.textContent = 'The page could not load. Check your connection and reload it.';
  console.error('chatio: the agent page could not load', e);
});
