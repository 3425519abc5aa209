// Drives the webchat page in headless Chromium (Debian's, via playwright-core) through the accessible
// names of SPEC §5.4 only, talking to the test over stdin/stdout so that it can act through the API
// between steps. Run by tests/api/web.rs:
//   node webchat_check.mjs BASE_URL PLATFORMID SCREENSHOT_DIR
// Commands (one JSON per line on stdin), each answered by one JSON line on stdout:
//   {"do":"open"} {"do":"send","text":…} {"do":"wait","text":…} {"do":"items"} {"do":"reload"}
//   {"do":"newcontext"} {"do":"visitor"} {"do":"error"} {"do":"widget","host":URL} {"do":"shot","name":…} {"do":"close"}
//   {"do":"rate","rate":N,"feedback":…,"shot"?:NAME} {"do":"answer","question":…,"option":…} {"do":"hostcall","command":…,"data":…}
import { chromium } from 'playwright-core';
import readline from 'node:readline';

const [base, pid, shots] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
let context = await browser.newContext({ viewport: { width: 420, height: 720 } });
let page = await context.newPage();
// The pages' own errors and logs go to stderr, for the test's output when a step fails.
const watch = (p) => { p.on('console', (m) => console.error(`[page] ${m.text()}`)); p.on('pageerror', (e) => console.error(`[page error] ${e}`)); };
watch(page);
let chat = page; // the frame the chat lives in (the page itself, or the widget's iframe)
const say = (o) => console.log(JSON.stringify(o));
const items = async () => (await chat.getByRole('log').getByRole('listitem').allInnerTexts()).map((t) => t.split('\n')[0]);

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = JSON.parse(line);
  try {
    if (cmd.do === 'open') {
      await page.goto(`${base}/webchat/${pid}/`);
      chat = page;
      await chat.getByRole('log').waitFor();
      await page.waitForFunction(() => localStorage.length > 0);
      say({ ok: true });
    } else if (cmd.do === 'send') {
      await chat.getByRole('textbox', { name: 'Message' }).fill(cmd.text);
      await chat.getByRole('button', { name: 'Send' }).click();
      if (cmd.text.trim()) await chat.getByRole('log').getByText(cmd.text, { exact: true }).waitFor({ timeout: 5000 }).catch(() => {});
      say({ ok: true });
    } else if (cmd.do === 'wait') {
      const started = Date.now();
      await chat.getByRole('log').getByText(cmd.text, { exact: true }).waitFor({ timeout: cmd.timeout || 5000 });
      say({ ok: true, ms: Date.now() - started });
    } else if (cmd.do === 'items') {
      say({ ok: true, items: await items() });
    } else if (cmd.do === 'html') {
      say({ ok: true, html: await chat.getByRole('log').innerHTML() });
    } else if (cmd.do === 'reload') {
      await page.reload();
      await chat.getByRole('log').waitFor();
      await page.waitForTimeout(500);
      say({ ok: true, items: await items() });
    } else if (cmd.do === 'newcontext') {
      await context.close();
      context = await browser.newContext({ viewport: { width: 420, height: 720 } });
      page = await context.newPage();
      watch(page);
      chat = page;
      say({ ok: true });
    } else if (cmd.do === 'visitor') {
      const v = await page.evaluate(() => JSON.parse(localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith('chatgate.webchat.')))));
      say({ ok: true, visitor: v.visitor, token: v.token });
    } else if (cmd.do === 'error') {
      const alert = chat.getByRole('alert');
      await alert.waitFor({ timeout: 5000 });
      say({ ok: true, text: await alert.innerText() });
    } else if (cmd.do === 'widget') {
      await page.goto(cmd.host);
      await page.getByRole('button', { name: 'Chat with us' }).click();
      chat = page.frameLocator('iframe[title="Chat"]');
      await chat.getByRole('log').waitFor();
      say({ ok: true });
    } else if (cmd.do === 'rate') {
      // After the end the page asks: a radio group "Rating", a text box "Feedback", "Send feedback".
      const group = chat.getByRole('radiogroup', { name: 'Rating' });
      await group.waitFor({ timeout: 5000 });
      await group.getByRole('radio', { name: String(cmd.rate) }).check();
      await chat.getByRole('textbox', { name: 'Feedback' }).fill(cmd.feedback);
      if (cmd.shot) await page.screenshot({ path: `${shots}/${cmd.shot}.png` });
      await chat.getByRole('button', { name: 'Send feedback' }).click();
      await chat.getByRole('status').getByText('Thank you!').waitFor({ timeout: 5000 });
      say({ ok: true });
    } else if (cmd.do === 'answer') {
      // The survey: a radio group named by its question, one option per answer, "Send answer".
      const group = chat.getByRole('radiogroup', { name: cmd.question });
      await group.waitFor({ timeout: 5000 });
      await group.getByRole('radio', { name: cmd.option }).check();
      await chat.getByRole('button', { name: 'Send answer' }).click();
      await group.waitFor({ state: 'hidden', timeout: 5000 });
      say({ ok: true });
    } else if (cmd.do === 'hostcall') {
      // The host page calls window.chatgate(command, data), as a shop's own script would.
      await page.evaluate(([c, d]) => window.chatgate(c, d), [cmd.command, cmd.data]);
      say({ ok: true });
    } else if (cmd.do === 'shot') {
      await page.screenshot({ path: `${shots}/${cmd.name}.png` });
      say({ ok: true });
    } else if (cmd.do === 'close') {
      await page.close();
      say({ ok: true });
    }
  } catch (e) {
    say({ ok: false, error: String(e).slice(0, 500), items: await items().catch(() => []) });
  }
}
await browser.close();
