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
const templateForm = document.getElementById('template-form');
const templateSelect = templateForm.querySelector('select');
const templateParams = templateForm.querySelector('.template-params');
let approved = []; // the channel's APPROVED templates, when the chat's window is closed
let csrf = '';
let me = '';
let myGroup = ''; // the operators' group this login belongs to: its chats are under Mine too
let current = null; // {platform, platformid, destination}
let showMine = false; // the inbox's Mine / All filter
const handling = consoleEl.querySelector('.handling');
const assignSelect = document.getElementById('assign');
const contactPanel = consoleEl.querySelector('section.contact');
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
  // A template's refusal says why in words (`message`): the parameter and what it needs.
  if (body.message) return body.message;
  return errorText[body.error] || `Something went wrong (${body.error || res.status}).`;
}

async function start() {
  const res = await fetch('/operator/api/me');
  if (res.ok) { ({ login: me, csrf, group: myGroup } = await res.json()); open(); } else { signin.hidden = false; consoleEl.hidden = true; }
}

signin.addEventListener('submit', async (e) => {
  e.preventDefault();
  showError(signin.querySelector('[role="alert"]'), '');
  const data = new FormData(signin);
  const res = await api('login', { login: data.get('login'), password: data.get('password') });
  if (!res.ok) { showError(signin.querySelector('[role="alert"]'), await explain(res)); return; }
  signin.reset();
  showError(signin.querySelector('[role="alert"]'), '');
  start();
});

function open() {
  signin.hidden = true;
  consoleEl.hidden = false;
  consoleEl.querySelector('.who').textContent = `Signed in as ${me}`;
  loadChats();
  loadOperators();
  events = follow('/operator/api/events', { changed: () => { loadChats(); if (current) loadConversation(); } });
}

const key = (c) => `${c.platform}/${c.platformid}/${c.destination}`;

async function loadChats() {
  const res = await api('chats');
  if (!res.ok) return;
  const { list } = await res.json();
  const mine = (c) => c.assignee === me || (myGroup && c.assignee === `group:${myGroup}`);
  const shown = showMine ? list.filter(mine) : list;
  chatsEl.replaceChildren(...shown.map(({ chat, unread }) => {
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
  // In a room, members' answers are the room's received messages, each with its author.
  const room = chat.platform === 'operator' && chat.destination.startsWith('#');
  for (const m of list) {
    const mine = room ? m.sent === 0 && m.author?.id === me : toMe ? m.sent === 0 : m.sent === 1;
    showMessage(log, m, mine, m.sent === 1 && !toMe && !room ? m.status : '');
  }
  const lastReceived = list.filter((m) => m.sent === 0 && m.status === 'unread').map((m) => m.messageid).pop();
  if (lastReceived && !toMe) await api('read', { ...chat, messageid: lastReceived });
  const infoRes = await api(`chatinfo?${new URLSearchParams(chat)}`);
  const info = infoRes.ok ? await infoRes.json() : null;
  if (chat !== current) return;
  showHandling(info);
  await offerTemplates(chat, info);
}

// The conversation's handling: whom it is assigned to, and its contact (fields, custom data, and what
// was left after the end).
function showHandling(info) {
  handling.hidden = !info;
  contactPanel.hidden = !info;
  if (!info) return;
  const wanted = info.assignee.startsWith('group:') ? info.assignee : info.assignee ? `operator:${info.assignee}` : '';
  assignSelect.value = [...assignSelect.options].some((o) => o.value === wanted) ? wanted : '';
  const rows = [
    ['Name', info.contact.name], ['Email', info.contact.email], ['Phone', info.contact.phone_number],
    ['Company', info.contact.company], ['Customer id', info.contact.external_customer_id],
    ['Custom data', info.custom === '{}' ? '' : info.custom], ['Conversation', info.state],
    ['Rating', info.rating], ['Feedback', info.feedback], ['Survey', info.survey],
  ];
  contactPanel.querySelector('dl').replaceChildren(...rows.flatMap(([name, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value || '—';
    return [dt, dd];
  }));
}

async function loadOperators() {
  const res = await api('operators');
  if (!res.ok) return;
  const { operators, groups } = await res.json();
  assignSelect.replaceChildren(new Option('Nobody', ''),
    ...operators.map((o) => new Option(o, `operator:${o}`)),
    ...groups.map((g) => new Option(`Group ${g}`, `group:${g}`)));
}

assignSelect.addEventListener('change', async () => {
  if (!current || !assignSelect.value) return;
  const [kind, name] = [assignSelect.value.slice(0, assignSelect.value.indexOf(':')), assignSelect.value.slice(assignSelect.value.indexOf(':') + 1)];
  const res = await api('assign', { ...current, [kind]: name });
  if (!res.ok) { showError(replyError, await explain(res)); return; }
  loadChats();
  loadConversation();
});
document.getElementById('end').addEventListener('click', async () => {
  if (!current) return;
  const res = await api('end', current);
  if (!res.ok) { showError(replyError, await explain(res)); return; }
  loadConversation();
});
for (const [id, mine] of [['show-all', false], ['show-mine', true]]) {
  document.getElementById(id).addEventListener('click', () => {
    showMine = mine;
    document.getElementById('show-all').setAttribute('aria-pressed', String(!mine));
    document.getElementById('show-mine').setAttribute('aria-pressed', String(mine));
    loadChats();
  });
}

// A WhatsApp chat whose 24-hour window is closed takes only a template: the reply box gives way to the
// channel's approved templates, one text box per parameter.
async function offerTemplates(chat, info) {
  const closed = chat.platform === 'whatsapp' && info !== null && info.window === '';
  if (chat !== current) return;
  reply.hidden = closed;
  templateForm.hidden = !closed;
  // Which chat the composer was last chosen for (read by the browser tests).
  const settled = () => { document.querySelector('main').dataset.composer = key(chat); };
  if (!closed) { settled(); return; }
  const res = await api(`templates?${new URLSearchParams({ platform: chat.platform, platformid: chat.platformid })}`);
  const list = res.ok ? (await res.json()).list : [];
  const wanted = list.filter((t) => t.status === 'APPROVED');
  const same = wanted.length === approved.length && wanted.every((t, i) => t.name === approved[i].name && t.language === approved[i].language);
  if (!same || !templateSelect.options.length) {
    approved = wanted;
    templateSelect.replaceChildren(...approved.map((t, i) => new Option(`${t.name} (${t.language})`, String(i))));
    showParameters();
  }
  // With nothing to choose, the form says why instead of a button that would do nothing.
  templateForm.querySelector('button').disabled = approved.length === 0;
  if (!res.ok) showError(replyError, 'The channel\'s templates could not be read; try again in a moment.');
  else if (!approved.length) showError(replyError, 'This channel has no approved template yet: none can be sent until Meta approves one.');
  else showError(replyError, '');
  settled();
}

function showParameters() {
  const t = approved[Number(templateSelect.value)];
  templateParams.replaceChildren(...(t ? t.parameters : []).map((p) => {
    const label = document.createElement('label');
    label.append(`{{${p}}} `);
    const input = document.createElement('input');
    input.name = p;
    input.required = true;
    label.append(input);
    return label;
  }));
}
templateSelect.addEventListener('change', showParameters);

templateForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = approved[Number(templateSelect.value)];
  if (!current) { showError(replyError, 'Choose a chat first.'); return; }
  if (!t) { showError(replyError, 'Choose a template first.'); return; }
  const values = [...templateParams.querySelectorAll('input')].map((i) => [i.name, i.value]);
  const named = t.parameters.some((p) => !/^[0-9]+$/.test(p));
  const parameters = named ? Object.fromEntries(values) : values.map(([, v]) => v);
  const res = await api('sendtemplate', { ...current, template: t.name, language: t.language, parameters });
  if (!res.ok) { showError(replyError, await explain(res)); return; }
  showError(replyError, '');
  templateParams.querySelectorAll('input').forEach((i) => { i.value = ''; });
  loadConversation();
});

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
