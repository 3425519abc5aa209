// The visitor's chat page: a session (visitor id + secret token kept in localStorage, so a reload resumes
// the conversation), the history, sending, and a Server-Sent Events stream for what the business sends.
import { follow, showMessage, showError } from '/assets/common.js';

const root = document.querySelector('main.chat');
const api = `/webchat/${root.dataset.platformid}/api`;
const storeKey = `chatgate.webchat.${root.dataset.platformid}`;
const log = root.querySelector('[role="log"]');
const form = root.querySelector('form');
const box = form.querySelector('textarea');
const error = root.querySelector('[role="alert"]');
let session = null;
let seen = 0;

const visitorStatus = { unread: 'Sent', read: 'Seen' };

function show(list) {
  for (const m of list) showMessage(log, m, m.sent === 0, m.sent === 0 ? visitorStatus[m.status] : '');
  markSeen();
}

async function call(path, options = {}) {
  const headers = { 'content-type': 'application/json', 'x-visitor-id': session?.visitor || '', 'x-visitor-token': session?.token || '' };
  return fetch(`${api}${path}`, { ...options, headers });
}

async function start() {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(storeKey) || 'null'); } catch { saved = null; }
  let res = await fetch(`${api}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(saved || {}) });
  if (res.status === 401) {
    res = await fetch(`${api}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  }
  if (!res.ok) { showError(error, 'The chat is not available right now.'); return; }
  session = await res.json();
  localStorage.setItem(storeKey, JSON.stringify(session));
  const history = await call('/messages');
  if (history.ok) show((await history.json()).list);
  follow(`${api}/events?visitor=${encodeURIComponent(session.visitor)}&token=${encodeURIComponent(session.token)}`,
    { messages: (e) => show(JSON.parse(e.data).list) });
}

/** Tells the server which business messages were shown (they become `read`). */
async function markSeen() {
  if (document.visibilityState !== 'visible' || !session) return;
  const last = [...log.querySelectorAll('li:not(.mine)')].map((li) => Number(li.dataset.id)).reduce((a, b) => Math.max(a, b), 0);
  if (last <= seen) return;
  seen = last;
  await call('/seen', { method: 'POST', body: JSON.stringify({ messageid: String(last) }) });
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = box.value.trim();
  if (!text) { showError(error, 'Write a message first.'); return; }
  if ([...text].length > 4096) { showError(error, 'That message is too long (4096 characters at most).'); return; }
  const res = await call('/messages', { method: 'POST', body: JSON.stringify({ message: text }) });
  if (res.status === 429) {
    showError(error, `You are sending messages too fast. Try again in ${res.headers.get('retry-after') || 'a few'} seconds.`);
    return;
  }
  if (!res.ok) { showError(error, 'The message could not be sent. Please try again.'); return; }
  showError(error, '');
  box.value = '';
  show([await res.json()]);
});
box.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
});
document.addEventListener('visibilitychange', markSeen);
start();
