// The visitor's chat page: a session (visitor id + secret token kept in localStorage, so a reload resumes
// the conversation), the history, sending, and a Server-Sent Events stream for what the business sends.
// After the end of the conversation it asks for a rating and the channel's survey, as the server says
// (`conversation` beside each list). The host page's contact and custom data arrive by postMessage from
// widget.js (`window.chatgate('setContactInfo' | 'setCustomData', …)`) and go to `api/contact`.
import { follow, showMessage, showError } from '/assets/common.js';

const root = document.querySelector('main.chat');
const api = `/webchat/${root.dataset.platformid}/api`;
const storeKey = `chatgate.webchat.${root.dataset.platformid}`;
const log = root.querySelector('[role="log"]');
const form = root.querySelector('form.composer');
const box = form.querySelector('textarea');
const error = root.querySelector('[role="alert"]');
const after = root.querySelector('.after-end');
const ratingForm = after.querySelector('form.rating');
const surveyForm = after.querySelector('form.survey');
const thanks = after.querySelector('.thanks');
let session = null;
let seen = 0;
/** What the host page passed on (contact, custom data, its URL) before the session was ready. */
const waitingForSession = [];

const visitorStatus = { unread: 'Sent', read: 'Seen' };

/** What the server asks after the end: the ended notice, the rating form, the survey. */
function ask(conversation) {
  if (!conversation) return;
  const ended = conversation.state === 'ended';
  after.hidden = !ended;
  ratingForm.hidden = !(ended && conversation.rating);
  const survey = ended ? conversation.survey : null;
  surveyForm.hidden = !survey;
  if (survey && surveyForm.dataset.question !== survey.question) {
    surveyForm.dataset.question = survey.question;
    const group = surveyForm.querySelector('[role="radiogroup"]');
    group.querySelector('#survey-question').textContent = survey.question;
    group.querySelectorAll('label').forEach((l) => l.remove());
    for (const option of survey.options) {
      const label = document.createElement('label');
      const input = Object.assign(document.createElement('input'), { type: 'radio', name: 'option', value: option });
      label.append(input, ` ${option}`);
      group.append(label);
    }
  }
  if (!ended) thanks.hidden = true;
}

async function passOn(body) {
  if (!session) { waitingForSession.push(body); return; }
  if (body.url !== undefined) await call('/visit', { method: 'POST', body: JSON.stringify(body) });
  else await call('/contact', { method: 'POST', body: JSON.stringify(body) });
}

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
  // A browser may deny storage to a page in another site's frame (third-party storage blocking): the
  // chat still works, as a new visitor on each load.
  try { localStorage.setItem(storeKey, JSON.stringify(session)); } catch { /* not kept */ }
  const history = await call('/messages');
  if (history.ok) {
    const h = await history.json();
    show(h.list);
    ask(h.conversation);
  }
  for (const body of waitingForSession.splice(0)) await passOn(body);
  follow(`${api}/events?visitor=${encodeURIComponent(session.visitor)}&token=${encodeURIComponent(session.token)}`,
    { messages: (e) => { const d = JSON.parse(e.data); show(d.list); ask(d.conversation); } });
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
ratingForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const rate = ratingForm.querySelector('input[name="rate"]:checked');
  if (!rate) { showError(error, 'Choose a rating from 1 to 5 first.'); return; }
  const feedback = ratingForm.querySelector('textarea').value.trim();
  const res = await call('/rating', { method: 'POST', body: JSON.stringify({ rate: Number(rate.value), feedback: feedback || null }) });
  if (!res.ok && res.status !== 409) { showError(error, 'Your rating could not be sent. Please try again.'); return; }
  showError(error, '');
  ratingForm.hidden = true;
  thanks.hidden = false;
});
surveyForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const option = surveyForm.querySelector('input[name="option"]:checked');
  if (!option) { showError(error, 'Choose an answer first.'); return; }
  const res = await call('/survey', { method: 'POST', body: JSON.stringify({ option: option.value }) });
  if (!res.ok && res.status !== 409) { showError(error, 'Your answer could not be sent. Please try again.'); return; }
  showError(error, '');
  surveyForm.hidden = true;
  thanks.hidden = false;
});
// The host page (widget.js, in the page that embeds this one) passes on its contact and custom data.
window.addEventListener('message', (e) => {
  if (e.source !== window.parent || window.parent === window) return;
  const { chatgate: command, data } = e.data || {};
  if (command === 'setContactInfo' && data && typeof data === 'object') {
    const fields = ['name', 'email', 'phone_number', 'company', 'external_customer_id'];
    passOn(Object.fromEntries(fields.filter((f) => typeof data[f] === 'string').map((f) => [f, data[f]])));
  } else if (command === 'setCustomData' && data && typeof data === 'object' && !Array.isArray(data)) {
    passOn({ custom: data });
  } else if (command === 'visit' && typeof data?.url === 'string') {
    passOn({ url: data.url });
  }
});
document.addEventListener('visibilitychange', markSeen);
start();
