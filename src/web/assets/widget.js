// chatgate's webchat launcher: <script src="https://chat.example.com/webchat/1/widget.js" async></script>
// adds a button that opens the chat page in an iframe; nothing else of the host page is touched but
// `window.chatgate(command, data)` and reporting the page's URL when the chat loads (for goals):
// `setContactInfo` ({name, email, phone_number, company,
// external_customer_id}), `setCustomData` (a JSON object of at most 8 KiB), `open`, `close`. Calls made
// before this script loaded are queued by the host page's snippet:
//   window.chatgate = window.chatgate || function(){(chatgate.q=chatgate.q||[]).push(arguments)};
(() => {
  const script = document.currentScript;
  if (!script || window.__chatgateWidget) return;
  window.__chatgateWidget = true;
  const page = new URL('./', script.src).href;
  const frame = document.createElement('iframe');
  frame.src = page;
  frame.title = 'Chat';
  frame.hidden = true;
  Object.assign(frame.style, {
    position: 'fixed', right: '20px', bottom: '84px', width: 'min(380px, calc(100vw - 40px))',
    height: 'min(560px, calc(100vh - 120px))', border: '1px solid #dfe3ea', borderRadius: '14px',
    boxShadow: '0 12px 40px rgba(20,30,60,.18)', background: '#fff', zIndex: 2147483646,
  });
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Chat with us';
  button.setAttribute('aria-expanded', 'false');
  Object.assign(button.style, {
    position: 'fixed', right: '20px', bottom: '20px', padding: '12px 20px', borderRadius: '999px',
    border: '0', background: '#2459d6', color: '#fff', font: '600 15px system-ui, sans-serif',
    boxShadow: '0 6px 20px rgba(36,89,214,.35)', cursor: 'pointer', zIndex: 2147483647,
  });
  const toggle = (open) => {
    frame.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    button.textContent = open ? 'Close chat' : 'Chat with us';
  };
  button.addEventListener('click', () => toggle(frame.hidden));
  // Contact and custom data go to the chat page (it holds the visitor's session), once it has loaded.
  const origin = new URL(page).origin;
  let loaded = false;
  const waiting = [];
  const post = (command, data) => frame.contentWindow.postMessage({ chatgate: command, data }, origin);
  frame.addEventListener('load', () => {
    loaded = true;
    // The page the visitor is on, for the channel's goals.
    post('visit', { url: window.location.href });
    waiting.splice(0).forEach(([c, d]) => post(c, d));
  });
  const chatgate = (command, data) => {
    if (command === 'open') toggle(true);
    else if (command === 'close') toggle(false);
    else if (command === 'setContactInfo' || command === 'setCustomData') {
      if (loaded) post(command, data); else waiting.push([command, data]);
    }
  };
  const queued = (window.chatgate && window.chatgate.q) || [];
  window.chatgate = chatgate;
  for (const args of queued) chatgate(...args);
  const add = () => document.body.append(frame, button);
  if (document.body) add(); else document.addEventListener('DOMContentLoaded', add);
})();
