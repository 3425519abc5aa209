// Drives Swagger UI at BASE/docs/ in headless Chromium (Debian's, via playwright-core): "Authorize" with
// client credentials, then "Try it out" on POST /api/json/chat/getchatchannels. Prints
// {"authorized":…,"response":…} and saves a screenshot. Run by tests/api/json.rs:
//   node swagger_check.mjs BASE_URL CLIENT_ID CLIENT_SECRET SCREENSHOT.png
import { chromium } from 'playwright-core';
const [base, user, secret, shot] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
await page.goto(base + '/docs/');
await page.getByRole('button', { name: /Authorize/ }).first().click();
const dialog = page.locator('.modal-ux');
const oauth = dialog.locator('.auth-container').filter({ hasText: 'clientCredentials' });
await oauth.locator('#client_id_clientCredentials').fill(user);
await oauth.locator('#client_secret_clientCredentials').fill(secret);
await oauth.getByText('select all').click();
await oauth.locator('button.authorize').click();
await oauth.getByText(/Logout/).waitFor({ timeout: 10000 });
const authorized = await oauth.innerText();
await oauth.locator('button.btn-done').click();
const op = page.locator('#operations-json-getchatchannels');
await op.locator('.opblock-summary').click();
await op.getByRole('button', { name: 'Try it out' }).click();
await op.getByRole('button', { name: 'Execute' }).click();
const body = op.locator('.live-responses-table .microlight').first();
await body.waitFor({ timeout: 10000 }).catch(async () => {
  await page.screenshot({ path: shot, fullPage: true });
  console.log((await op.innerText()).slice(0, 3000));
  process.exit(1);
});
const response = JSON.parse(await body.innerText());
// The Webhooks section (OpenAPI 3.1 `webhooks`): each event, opened, shows its payload's schema.
// Under load the page draws late: wait for the section and for each payload rather than read a
// half-drawn page (`all()` and `innerText()` do not wait for content).
const events = [];
const blocks = page.locator('.opblock-post').filter({ hasText: /chat_session\.|operator\.|conversation\.|contact\.|um_widget\./ });
await blocks.first().waitFor({ timeout: 10000 }).catch(() => {});
for (const block of await blocks.all()) {
  const name = (await block.locator('.opblock-summary-path, .opblock-summary-operation-id, .opblock-summary-path__deprecated').first().innerText()).trim();
  await block.locator('.opblock-summary').click();
  const body = block.locator('.opblock-body');
  await body.getByText(/created_at/).first().waitFor({ timeout: 10000 }).catch(() => {});
  const payload = await body.innerText();
  events.push({ name, payload: /_type/.test(payload) && /created_at/.test(payload) });
}
console.log(JSON.stringify({ authorized: /Authorized/.test(authorized), response, events }));
await page.screenshot({ path: shot, fullPage: false });
await browser.close();
