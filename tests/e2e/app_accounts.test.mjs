// Several accounts end to end (issue 15, item 1): two Dovecot users, one over POP3S and one over
// STARTTLS, with different server policies. One Sync checks both; the unified inbox holds both
// accounts' mail newest first with the account on every row; each account's own inbox holds its
// own; each server keeps what its policy says. Removing an account keeps its mail here or
// deletes it here, as chosen, and never touches the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtureAndBrowser, screenshotDir } from './fixture.mjs';
import { fillAccountForm, storedSummaries, messageCount } from './app_support.mjs';

const env = fixtureAndBrowser();
const SHOTS = screenshotDir();

/** Clicks Sync and waits for `sessions` sessions (one per account) to end. */
async function syncAll(page, sessions) {
  const runs = () => page.locator('.status').getAttribute('data-runs').then(Number);
  const before = await runs();
  await page.getByRole('button', { name: 'Sync', exact: true }).click();
  await page.waitForFunction(
    (n) => Number(document.querySelector('.status')?.dataset.runs) >= n, before + sessions, { timeout: 60000 });
  await page.getByRole('button', { name: 'Sync', exact: true }).waitFor();
}

/** The accessible names of the list's rows. */
function rows(page) {
  return page.getByRole('listbox', { name: 'Messages' }).getByRole('option').evaluateAll(
    (items) => items.map((i) => i.getAttribute('aria-label')));
}

test('two accounts: one Sync checks both, a unified inbox, each server per its policy', async () => {
  const { fx, browser } = env;
  const [alice, bob] = [await fx.newUser(), await fx.newUser()];
  await fx.deliver(alice, 'plain', 3);
  await fx.deliver(bob, 'html', 2);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(fx.appUrl);

  // Alice over implicit TLS, leaving mail on the server.
  await fillAccountForm(page, fx, alice, { security: 'tls', policy: 'leave' });
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync', exact: true }).waitFor();

  // Bob over STARTTLS, deleting after download: added from the accounts screen.
  await page.getByRole('button', { name: 'Accounts' }).click();
  await page.getByRole('button', { name: 'Add account' }).click();
  await page.getByRole('heading', { name: 'Add your mail account' }).waitFor();
  await fillAccountForm(page, fx, bob, { security: 'starttls', policy: 'delete' });
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync', exact: true }).waitFor();

  // The unified inbox is shown; Sync checks both accounts, one session after the other. One row
  // per message: bob's two newsletters share a Message-ID, which conversations would join
  // (app_threads tests that).
  assert.equal(await page.getByLabel('Inbox').inputValue(), 'all');
  await page.getByLabel('Group into conversations').uncheck();
  await syncAll(page, 2);
  await page.waitForFunction(() => /^5 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  const all = await rows(page);
  assert.equal(all.length, 5, JSON.stringify(all));
  const aliceAddress = `${alice.name}@example.org`;
  const bobAddress = `${bob.name}@example.org`;
  assert.equal(all.filter((r) => r.endsWith(`, to ${aliceAddress}`)).length, 3, JSON.stringify(all));
  assert.equal(all.filter((r) => r.endsWith(`, to ${bobAddress}`)).length, 2, JSON.stringify(all));
  // Newest first across both accounts (ties: account, then UIDL, descending).
  const stored = await storedSummaries(page);
  assert.equal(stored.length, 5);
  const cmp = (a, b) => b.date - a.date || (a.account < b.account ? 1 : a.account > b.account ? -1 : 0)
    || (a.uidl < b.uidl ? 1 : a.uidl > b.uidl ? -1 : 0);
  const expected = stored.sort(cmp).map((m) => `Unread: ${m.from}, ${m.subject}, to ${m.account}`);
  assert.deepEqual(all, expected);

  // Each server followed its own policy.
  assert.equal(await fx.count(alice), 3, 'leave on the server: alice keeps all three');
  assert.equal(await fx.count(bob), 0, 'delete after download: bob keeps none');

  // The screenshots show the accounts, not the storage warnings (app_safety tests those).
  await page.getByRole('button', { name: 'Not now' }).click();
  await page.getByRole('button', { name: 'OK', exact: true }).click({ timeout: 3000 }).catch(() => {});
  await page.screenshot({ path: join(SHOTS, 'app-accounts-unified.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, 'app-accounts-unified-phone.png') });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Each account on its own.
  await page.getByLabel('Inbox').selectOption(bobAddress);
  await page.waitForFunction(() => /^2 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  await page.getByLabel('Inbox').selectOption(aliceAddress);
  await page.waitForFunction(() => /^3 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  // Reading a message of one account from the unified inbox opens that account's message.
  await page.getByLabel('Inbox').selectOption('all');
  await page.waitForFunction(() => /^5 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  await page.getByRole('listbox', { name: 'Messages' }).getByRole('option').filter({ hasText: bobAddress }).first().click();
  await page.getByRole('article', { name: 'Message' }).waitFor();

  // The accounts screen lists both, with their servers and policies.
  await page.getByRole('button', { name: 'Accounts' }).click();
  const list = page.getByRole('list', { name: 'Accounts' });
  await list.getByRole('listitem', { name: aliceAddress }).getByText('left on the server').waitFor();
  await list.getByRole('listitem', { name: bobAddress }).getByText('deleted from the server after download').waitFor();
  await list.getByRole('listitem', { name: bobAddress }).getByText(/STARTTLS/).waitFor();
  await page.screenshot({ path: join(SHOTS, 'app-accounts-screen.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, 'app-accounts-screen-phone.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'nothing wider than the phone');
  await page.setViewportSize({ width: 1280, height: 800 });

  // Remove bob, keeping his mail here: it stays in the unified inbox under his address.
  const bobCard = list.getByRole('listitem', { name: bobAddress });
  await bobCard.getByRole('button', { name: 'Remove' }).click();
  await bobCard.getByRole('button', { name: 'Keep its mail here' }).click();
  await bobCard.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Back to mail' }).click();
  await page.waitForFunction(() => /^5 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  const kept = await rows(page);
  assert.equal(kept.filter((r) => r.endsWith(`, to ${bobAddress}`)).length, 2, JSON.stringify(kept));

  // Remove alice, deleting her mail here: only bob's kept mail is left in the store, and
  // alice's server still has all three.
  await page.getByRole('button', { name: 'Accounts' }).click();
  const aliceCard = list.getByRole('listitem', { name: aliceAddress });
  await aliceCard.getByRole('button', { name: 'Remove' }).click();
  await aliceCard.getByRole('button', { name: 'Delete its mail here' }).click();
  // No account left: the app asks for one.
  await page.getByRole('heading', { name: 'Add your mail account' }).waitFor();
  const left = await storedSummaries(page);
  assert.deepEqual([...new Set(left.map((s) => s.account))], [bobAddress]);
  assert.equal(left.length, 2);
  assert.equal(await fx.count(alice), 3, 'removing an account deletes nothing on its server');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a pinned certificate is shown, removed, and re-pinned after the server changed it', async () => {
  const { fx, browser } = env;
  const user = await fx.newUser();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await fillAccountForm(page, fx, user);
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync', exact: true }).waitFor();
  // The certificate the account trusted has since been replaced on the server: a pin that no
  // longer matches (the fixture serves one certificate, so the stored pin is the old one).
  const old = 'ab'.repeat(32);
  await page.evaluate((old) => new Promise((resolve, reject) => {
    const o = indexedDB.open('postbag');
    o.onsuccess = () => {
      const tx = o.result.transaction('accounts', 'readwrite');
      const os = tx.objectStore('accounts');
      const r = os.getAll();
      r.onsuccess = () => { const a = r.result[0]; a.pinned_sha256 = old; os.put(a); };
      tx.oncomplete = () => { o.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), old);
  await page.reload();
  await page.getByRole('button', { name: 'Accounts' }).click();
  const card = page.getByRole('list', { name: 'Accounts' }).getByRole('listitem');
  await card.getByText(old).waitFor();

  // Settings: the test shows both fingerprints, and trusting the new one pins it.
  await card.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Password or app password').fill(user.password);
  await page.getByRole('button', { name: 'Test connection' }).click();
  const result = page.getByRole('status', { name: 'Connection test' });
  const changed = result.getByRole('alert').filter({ hasText: "The server's certificate changed" });
  await changed.waitFor({ timeout: 20000 });
  assert.match(await changed.innerText(), new RegExp(old));
  // The new fingerprint beside the old one.
  const now = await result.locator('.pin dd code').innerText();
  assert.match(now, /^[0-9a-f:]{64,}$/i);
  assert.notEqual(now, old);
  await result.getByRole('button', { name: 'Trust this certificate' }).click();
  await result.getByText('Connection works.').waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Accounts' }).click();
  await card.getByText('Pinned certificate').waitFor();
  assert.equal(await card.getByText(old).count(), 0, 'the old pin is gone');

  // Removing the pin from the accounts screen.
  await card.getByRole('button', { name: 'Remove pin' }).click();
  await card.getByText('Pinned certificate').waitFor({ state: 'detached' });
  await context.close();
});
