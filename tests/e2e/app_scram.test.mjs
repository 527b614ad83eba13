// The app logs in with SCRAM-SHA-256 where the server offers it (issue 18, item 4): real
// Chromium, the real proxy, a real Dovecot offering SCRAM-SHA-1/-256 beside CRAM-MD5. The app
// gives each session a fresh nonce from crypto.getRandomValues; the connection test names the
// method, and Dovecot's own log shows the SCRAM logins of the test and of the sync.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, launchBrowser } from './fixture.mjs';
import { fillAccountForm, sync, messageCount } from './app_support.mjs';

let fx, browser;
before(async () => {
  fx = await startFixture();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

test('the connection test and the sync log in with SCRAM-SHA-256', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 2);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await fillAccountForm(page, fx, user);
  await page.getByRole('button', { name: 'Test connection' }).click();
  const result = page.getByRole('status', { name: 'Connection test' });
  await result.getByText('Connection works.').waitFor({ timeout: 20000 });
  assert.match(await result.innerText(), /Logged in with\s*SCRAM-SHA-256/);
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  assert.match(await sync(page), /2/);
  assert.equal(await messageCount(page), 2);
  assert.ok(
    await fx.logHas(`user=<${user.name}>, method=SCRAM-SHA-256`),
    'Dovecot logged no SCRAM-SHA-256 login of this user',
  );
  assert.equal(await fx.logHas(`user=<${user.name}>, method=CRAM-MD5`), false);
  await context.close();
});
