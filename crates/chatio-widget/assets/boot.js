// Starts the chat window: keeps what the visitor sends before the wasm is ready (the
// widget sends it once it starts), Enter sends and Shift+Enter is a new line, then loads
// the wasm. `cargo xtask widget` rewrites the two file names below to their hashed names.
import init from './chatio_widget.js';

const doc = document;
if (window.top !== window) doc.documentElement.classList.add('embedded');
const form = doc.getElementById('composer');
const input = doc.getElementById('input');

// Until the widget takes over (it removes this listener), a message becomes a row marked
// `queued`: the widget sends those rows in order once the SDK is running.
function early(e) {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  const row = doc.createElement('div');
  row.className = 'row me pending queued';
  const bubble = doc.createElement('div');
  bubble.className = 'bubble';
  const body = doc.createElement('div');
  body.className = 'text';
  body.dir = 'auto';
  body.textContent = text;
  const note = doc.createElement('div');
  note.className = 'meta';
  note.textContent = 'Waiting to send…';
  bubble.append(body, note);
  row.append(bubble);
  doc.getElementById('live').append(row);
}
form.addEventListener('submit', early);
window.__chatioEarlySubmit = early;

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});

init({ module_or_path: new URL('./chatio_widget_bg.wasm', import.meta.url) }).catch((e) => {
  doc.getElementById('error-text').textContent = 'The chat could not load. Check your connection and reload the page.';
  doc.getElementById('error').hidden = false;
  console.error('chatio: the widget could not load', e);
});
