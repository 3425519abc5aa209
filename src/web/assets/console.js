// The operator console: sign in, the shared inbox with unread counts, a conversation with history,
// reply and mark read, live updates over Server-Sent Events, presence, sign out.
import { follow, showMessage, showError } from '/assets/common.js';

const signin = document.getElementById('signin');
const consoleEl = document.getElementById('console');
const chatsEl = consoleEl.querySelector('[aria-label="Chats"]');
const log = consoleEl.querySelector('[role="log"]');
const replyError = consoleEl.querySelector('main [role="alert"]');
const reply = document.getElementById('reply');
const box = document.getElementById('message');
let csrf = '';
let me = '';
let current = null; // {platform, platformid, destination}
let events = null;

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body),
  };
  return fetch(`/operator/api/${path}`, { credentials: 'same-origin', ...options });
}

const errorText = {
  INCORRECT_USER_PASSWORD: 'Wrong login or password.', TOO_MANY_REQUESTS: 'Too many attempts. Wait a minute and try again.',
  IP_NOT_ALLOWED: 'Signing in is not allowed from this address.', ACCESS_DENIED: 'You are not allowed to do that with this login.',
  INCORRECT_PARAM: 'That message cannot be sent (empty, or over 4096 characters).',
};
async function explain(res) {
  const body = await res.json().catch(() => ({}));
  return errorText[body.error] || `Something went wrong (${body.error || res.status}).`;
}

async function start() {
  const res = await fetch('/operator/api/me');
  if (res.ok) { ({ login: me, csrf } = await res.json()); open(); } else { signin.hidden = false; consoleEl.hidden = true; }
}

signin.addEventListener('submit', async (e) => {
  e.preventDefault();
  showError(signin.querySelector('[role="alert"]'), '');
  const data = new FormData(signin);
  const res = await api('login', { login: data.get('login'), password: data.get('password') });
  if (!res.ok) { showError(signin.querySelector('[role="alert"]'), await explain(res)); return; }
  ({ login: me, csrf } = await res.json());
  signin.reset();
  showError(signin.querySelector('[role="alert"]'), '');
  open();
});

function open() {
  signin.hidden = true;
  consoleEl.hidden = false;
  consoleEl.querySelector('.who').textContent = `Signed in as ${me}`;
  loadChats();
  events = follow('/operator/api/events', { changed: () => { loadChats(); if (current) loadConversation(); } });
}

const key = (c) => `${c.platform}/${c.platformid}/${c.destination}`;

async function loadChats() {
  const res = await api('chats');
  if (!res.ok) return;
  const { list } = await res.json();
  chatsEl.replaceChildren(...list.map(({ chat, unread }) => {
    const li = document.createElement('li');
    li.tabIndex = 0;
    const ref = { platform: chat.platform, platformid: chat.platformid, destination: chat.destination };
    li.dataset.key = key(ref);
    if (current && key(current) === li.dataset.key) li.setAttribute('aria-current', 'true');
    const dest = document.createElement('span');
    dest.className = 'dest';
    dest.textContent = chat.destination;
    const platform = document.createElement('span');
    platform.className = 'platform';
    platform.textContent = `${chat.platform} · ${chat.message}`;
    dest.append(platform);
    const count = document.createElement('span');
    count.className = unread ? 'unread' : 'unread zero';
    count.textContent = String(unread);
    count.setAttribute('aria-label', `${unread} unread`);
    li.append(dest, count);
    const choose = () => { current = ref; loadChats(); log.replaceChildren(); loadConversation(); };
    li.addEventListener('click', choose);
    li.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); choose(); } });
    return li;
  }));
}

async function loadConversation() {
  const chat = current;
  const q = new URLSearchParams(chat).toString();
  const res = await api(`messages?${q}`);
  if (!res.ok || chat !== current) return;
  const { list } = await res.json();
  document.getElementById('title').textContent = chat.destination;
  document.getElementById('subtitle').textContent = `${chat.platform} · channel ${chat.platformid}`;
  // In an operator channel's chat with this operator, the business's messages come to me and my
  // answers are the chat's received messages (which the business reads, not I).
  const toMe = chat.platform === 'operator' && chat.destination === me;
  for (const m of list) {
    const mine = toMe ? m.sent === 0 : m.sent === 1;
    showMessage(log, m, mine, m.sent === 1 && !toMe ? m.status : '');
  }
  const lastReceived = list.filter((m) => m.sent === 0 && m.status === 'unread').map((m) => m.messageid).pop();
  if (lastReceived && !toMe) await api('read', { ...chat, messageid: lastReceived });
}

reply.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!current) { showError(replyError, 'Choose a chat first.'); return; }
  const text = box.value.trim();
  if (!text) { showError(replyError, 'Write a message first.'); return; }
  const res = await api('send', { ...current, message: text });
  if (!res.ok) { showError(replyError, await explain(res)); return; }
  showError(replyError, '');
  box.value = '';
  loadConversation();
});
box.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); reply.requestSubmit(); }
});

document.getElementById('presence').addEventListener('change', (e) => api('presence', { status: e.target.value }));
document.getElementById('signout').addEventListener('click', async () => {
  await api('logout', {});
  events?.close();
  current = null;
  log.replaceChildren();
  chatsEl.replaceChildren();
  consoleEl.hidden = true;
  signin.hidden = false;
});
start();
