// Helpers for the app's end-to-end tests: account setup through the real form, sync, and
// reading the app's IndexedDB from the page.
import assert from 'node:assert/strict';

/** Fills the setup form through the labels users see (their accessible names). */
/** `checkEvery`: minutes between automatic checks; empty (the default here) for Sync only, so
 * that a test's Sync is the only session. */
export async function fillAccountForm(page, fx, user, { security = 'tls', policy = 'delete', checkEvery = '' } = {}) {
  await page.getByLabel('Email address').fill(`${user.name}@example.org`);
  await page.getByLabel('Email address').press('Tab');
  await page.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Security', { exact: true }).selectOption(security);
  await page.getByLabel('Port', { exact: true }).fill(String(security === 'tls' ? fx.pop3sPort : fx.pop3Port));
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password or app password').fill(user.password);
  await page.getByLabel('After download').selectOption(policy);
  await page.getByLabel('Check for new mail every (minutes)').fill(checkEvery);
}

/** Fills the setup form, tests the connection (unless told not to) and saves. */
export async function setupAccount(page, fx, user, { security = 'tls', policy = 'delete', test = true, checkEvery = '' } = {}) {
  await fillAccountForm(page, fx, user, { security, policy, checkEvery });
  if (test) {
    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.getByRole('status', { name: 'Connection test' });
    try {
      await result.getByText('Connection works.').waitFor({ timeout: 20000 });
    } catch (e) {
      // Say what the user would have seen instead (a refusal, a slow server, nothing at all).
      throw new Error(`${e.message}\nthe connection test shows: ${JSON.stringify(await result.innerText())}`);
    }
  }
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
}

/** Clicks Sync and waits for the result line; returns its text. */
export async function sync(page, { timeout = 60000 } = {}) {
  const before = Number(await page.locator('.status').getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Sync' }).click();
  // Wait for THIS sync to finish, not for the banner of the previous one.
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout });
  const status = page.getByRole('status', { name: 'Sync status' }).locator('.banner.ok, .banner.error, .banner.offline');
  await status.first().waitFor({ timeout });
  return (await status.first().textContent()).trim();
}

/** Every stored summary of every account, read straight from IndexedDB. */
export function storedSummaries(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('postbag');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction('summaries').objectStore('summaries').getAll();
      req.onsuccess = () => { resolve(req.result); db.close(); };
      req.onerror = () => reject(req.error);
    };
  }));
}

export async function messageCount(page) {
  const text = await page.locator('.msg-count').textContent();
  return Number(text.match(/\d+/)[0]);
}

export function assertUnique(summaries) {
  const uidls = summaries.map((s) => s.uidl);
  assert.equal(new Set(uidls).size, uidls.length, 'no message stored twice');
}

/** Settings, Sending: the From identity and one of Postfix's submission ports (STARTTLS, or
 * implicit TLS with `{ implicit: true }`). */
export async function setUpSending(page, fx, user, name, { implicit = false } = {}) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const card = page.getByRole('form', { name: 'Sending' });
  await card.locator('#s-name').fill(name);
  await card.locator('#s-address').fill(user.address);
  await card.locator('#s-host').fill('127.0.0.1');
  await card.locator('#s-security').selectOption(implicit ? 'implicit' : 'starttls');
  await card.locator('#s-port').fill(String(implicit ? fx.submissionsPort : fx.submissionPort));
  await card.locator('#s-user').fill(user.name);
  await card.getByRole('button', { name: 'Save sending settings' }).click();
  await card.getByText('Sending settings saved.').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'New message' }).waitFor();
}
