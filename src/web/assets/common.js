// What the webchat page and the operator console share: drawing messages as text (never as HTML).

/** Shows `m` (an API message) in `log`, once per messageid, in id order; updates its status line. */
export function showMessage(log, m, mine, statusText) {
  let li = log.querySelector(`li[data-id="${CSS.escape(m.messageid)}"]`);
  if (!li) {
    li = document.createElement('li');
    li.dataset.id = m.messageid;
    // In a group chat each member writes: say who.
    if (m.author && m.author.name) {
      const who = document.createElement('p');
      who.className = 'author';
      who.textContent = m.author.name;
      li.append(who);
    }
    const text = document.createElement('p');
    text.className = 'text';
    li.append(text);
    if (m.fileurl && /^https?:\/\//i.test(m.fileurl)) {
      if (m.type === 'image') {
        const img = document.createElement('img');
        img.className = 'preview';
        img.alt = m.message || 'image';
        img.src = m.fileurl;
        li.append(img);
      }
      const a = document.createElement('a');
      a.className = 'file';
      a.href = m.fileurl;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = m.filename ? `Open ${m.filename}` : `Open ${m.type || 'file'}`;
      li.append(a);
    }
    const meta = document.createElement('span');
    meta.className = 'meta';
    li.append(meta);
    const after = [...log.children].find((other) => Number(other.dataset.id) > Number(m.messageid));
    log.insertBefore(li, after || null);
    log.scrollTop = log.scrollHeight;
  }
  li.classList.toggle('mine', mine);
  li.dataset.status = m.status;
  // The text may have been edited since it was first shown.
  li.querySelector('.text').textContent = m.message || (m.type ? `(${m.type})` : '');
  const time = (m.datetime || '').slice(11, 16) + (m.edited ? ' · edited' : '');
  li.querySelector('.meta').textContent = statusText ? `${time} · ${statusText}` : time;
  return li;
}

export function showError(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

/**
 * An event stream that comes back: a browser gives up on a stream the server refused (a 429 or 503
 * when too many are open), so it is opened again after a while, with jitter so pages spread out,
 * until `close()`.
 */
export function follow(url, listeners) {
  let events = null;
  let stopped = false;
  const start = () => {
    events = new EventSource(url);
    for (const [name, handler] of Object.entries(listeners)) events.addEventListener(name, handler);
    events.addEventListener('error', () => {
      if (!stopped && events.readyState === EventSource.CLOSED) setTimeout(start, 10000 + Math.random() * 10000);
    });
  };
  start();
  return { close() { stopped = true; events.close(); } };
}
