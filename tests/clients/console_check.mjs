// Drives the operator console in headless Chromium (Debian's, via playwright-core) through the
// accessible names of SPEC §5.4 only, one JSON command per stdin line, one JSON answer per stdout line.
// Run by tests/api/web.rs:   node console_check.mjs BASE_URL SCREENSHOT_DIR
// Commands: {"do":"signin","login","password"} {"do":"chats"} {"do":"open","destination"}
//   {"do":"send","text"} {"do":"wait","text"} {"do":"waitchat","text"} {"do":"items"} {"do":"error"}
//   {"do":"cookie"} {"do":"signout"} {"do":"newcontext"} {"do":"shot","name"}
//   {"do":"composer","destination"} (which form a chat offers: reply box or templates) {"do":"template","choose","params"}
//   {"do":"end"} (End conversation) {"do":"assign","to"} (Assign to) {"do":"filter","show":"Mine"|"All"}
//   {"do":"contact","wait"?} (the Contact panel's text, once it shows `wait`)
import { chromium } from 'playwright-core';
import readline from 'node:readline';

const [base, shots] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
let context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
let page = await context.newPage();
const say = (o) => console.log(JSON.stringify(o));
const chats = () => page.getByRole('list', { name: 'Chats' }).getByRole('listitem');
const items = async () => (await page.getByRole('log').getByRole('listitem').allInnerTexts()).map((t) => t.split('\n')[0]);

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = JSON.parse(line);
  try {
    if (cmd.do === 'signin') {
      if (!page.url().includes('/operator/')) await page.goto(`${base}/operator/`);
      await page.getByLabel('Login').fill(cmd.login);
      await page.getByLabel('Password').fill(cmd.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const signedIn = page.getByRole('button', { name: 'Sign out' });
      const refused = page.locator('#signin').getByRole('alert');
      await Promise.race([signedIn.waitFor({ timeout: 10000 }), refused.waitFor({ timeout: 10000 })]);
      say({ ok: true, signedIn: await signedIn.isVisible(), error: (await refused.isVisible()) ? await refused.innerText() : null });
    } else if (cmd.do === 'chats') {
      await chats().first().waitFor({ timeout: 5000 });
      say({ ok: true, chats: await chats().allInnerTexts() });
    } else if (cmd.do === 'waitchat') {
      await chats().filter({ hasText: cmd.text }).first().waitFor({ timeout: 5000 });
      say({ ok: true, chats: await chats().allInnerTexts() });
    } else if (cmd.do === 'open') {
      await chats().filter({ hasText: cmd.destination }).first().click();
      await page.getByRole('log').getByRole('listitem').first().waitFor({ timeout: 5000 });
      say({ ok: true, items: await items() });
    } else if (cmd.do === 'send') {
      await page.getByRole('textbox', { name: 'Message' }).fill(cmd.text);
      await page.getByRole('button', { name: 'Send' }).click();
      say({ ok: true });
    } else if (cmd.do === 'wait') {
      const started = Date.now();
      await page.getByRole('log').getByText(cmd.text, { exact: true }).waitFor({ timeout: cmd.timeout || 5000 });
      say({ ok: true, ms: Date.now() - started });
    } else if (cmd.do === 'items') {
      say({ ok: true, items: await items() });
    } else if (cmd.do === 'error') {
      const alert = page.locator('main').getByRole('alert');
      await alert.waitFor({ timeout: 5000 });
      say({ ok: true, text: await alert.innerText() });
    } else if (cmd.do === 'cookie') {
      const c = (await context.cookies()).find((k) => k.name === 'chatgate_console');
      say({ ok: true, cookie: c ? c.value : null, httpOnly: c?.httpOnly, sameSite: c?.sameSite });
    } else if (cmd.do === 'signout') {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      say({ ok: true });
    } else if (cmd.do === 'newcontext') {
      await context.close();
      context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
      page = await context.newPage();
      say({ ok: true });
    } else if (cmd.do === 'composer') {
      const select = page.getByRole('combobox', { name: 'Template' });
      await page.waitForFunction((d) => (document.querySelector('main').dataset.composer || '').endsWith(`/${d}`), cmd.destination);
      const templates = await select.isVisible();
      say({ ok: true, reply: await page.getByRole('textbox', { name: 'Message' }).isVisible(), templates,
        options: templates ? await select.locator('option').allInnerTexts() : [],
        sendable: templates && await page.getByRole('button', { name: 'Send template' }).isEnabled() });
    } else if (cmd.do === 'template') {
      await page.getByRole('combobox', { name: 'Template' }).selectOption({ label: cmd.choose });
      for (const [label, value] of Object.entries(cmd.params)) {
        await page.getByRole('textbox', { name: label, exact: true }).fill(value);
      }
      await page.getByRole('button', { name: 'Send template' }).click();
      say({ ok: true });
    } else if (cmd.do === 'end') {
      await page.getByRole('button', { name: 'End conversation' }).click();
      await page.getByRole('region', { name: 'Contact' }).getByText('ended', { exact: true }).waitFor({ timeout: 5000 });
      say({ ok: true });
    } else if (cmd.do === 'assign') {
      const select = page.getByRole('combobox', { name: 'Assign to' });
      await select.selectOption({ label: cmd.to });
      await page.waitForTimeout(300);
      say({ ok: true, options: await select.locator('option').allInnerTexts() });
    } else if (cmd.do === 'filter') {
      await page.getByRole('button', { name: cmd.show, exact: true }).click();
      await page.waitForTimeout(500);
      say({ ok: true, chats: await chats().allInnerTexts() });
    } else if (cmd.do === 'contact') {
      const panel = page.getByRole('region', { name: 'Contact' });
      if (cmd.wait) await panel.getByText(cmd.wait, { exact: true }).waitFor({ timeout: 5000 });
      say({ ok: true, text: await panel.innerText() });
    } else if (cmd.do === 'shot') {
      await page.screenshot({ path: `${shots}/${cmd.name}.png` });
      say({ ok: true });
    }
  } catch (e) {
    say({ ok: false, error: String(e).slice(0, 500) });
  }
}
await browser.close();
