// A self-signed server: the proxy cannot verify its certificate, the app says so, shows the
// fingerprint, and after the user chooses to trust it (pinning its SHA-256) the connection
// works and mail syncs. Real Dovecot, real proxy, real Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, launchBrowser } from './fixture.mjs';
import { fillAccountForm, sync, storedSummaries } from './app_support.mjs';

let fx, browser;
before(async () => {
  fx = await startFixture({ untrusted: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

test('a rejected certificate is shown, pinned by the user, and then trusted', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 3);
  // A laptop screen, where the verdict sits below the form's buttons.
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(fx.appUrl);

  await fillAccountForm(page, fx, user, { security: 'tls' });
  await page.getByRole('button', { name: 'Test connection' }).click();

  const result = page.getByRole('status', { name: 'Connection test' });
  await result.getByText('Certificate rejected').waitFor({ timeout: 20000 });
  // The fingerprint the user is asked to compare is the server's real one.
  const shown = (await result.locator('.pin code').textContent()).replace(/[^0-9a-f]/gi, '').toLowerCase();
  assert.equal(shown, fx.serverCertSha256);
  assert.equal(await fx.count(user), 3, 'nothing was downloaded or deleted');

  // The verdict and its button are brought into view (clicking would scroll by itself, so
  // look before clicking).
  const trust = result.getByRole('button', { name: 'Trust this certificate' });
  const inView = () => trust.evaluate((b) => {
    const r = b.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  });
  for (let i = 0; i < 40 && !(await inView()); i++) await page.waitForTimeout(50);
  assert.ok(await inView(), 'the Trust button is on screen without scrolling');
  await trust.click();
  await result.getByText('Connection works.').waitFor({ timeout: 20000 });
  // Checked only on Sync here (automatic checks are tested in app_checking.test.mjs).
  await page.getByLabel('Check for new mail every (minutes)').fill('');
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();

  const status = await sync(page);
  assert.match(status, /3 new messages/);
  assert.equal((await storedSummaries(page)).length, 3);
  assert.equal(await fx.count(user), 0, 'deleted from the server after the local commit');
});
