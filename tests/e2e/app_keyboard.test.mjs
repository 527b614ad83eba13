// The keyboard end to end: Gmail's keys move through the list of mail synced from the real
// Dovecot, act on it, and the focus is never lost (after # it is on the next row).
// Run: node --test tests/e2e/app_keyboard.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, launchBrowser } from './fixture.mjs';
import { setupAccount, sync, storedSummaries } from './app_support.mjs';

let fx, browser;
before(async () => {
  fx = await startFixture();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

const rows = (page) => page.getByRole('listbox', { name: 'Messages' }).getByRole('option');
/** The data-key of the focused element, if it is a row of the list. */
const focusedRow = (page) => page.evaluate(() => document.activeElement?.closest('.msg-row')?.dataset.key ?? null);
const rowKeys = (page) => page.locator('.msg-row').evaluateAll((all) =>
  all.sort((a, b) => a.offsetTop - b.offsetTop).map((r) => r.dataset.key));

test('the keyboard: j/k/o/u, # with the focus on the next row, ? and keys left to the search box', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 4);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, user, { policy: 'leave', test: false });
  assert.match(await sync(page), /4 new messages/);
  await page.waitForFunction(() => /^4 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  const keys = await rowKeys(page);
  assert.equal(keys.length, 4);
  // Let the work after a sync (the search index, the ids back-fill) settle: a list rendered
  // anew under the keys would move the focus the test checks.
  await page.waitForTimeout(1000);

  await rows(page).first().focus();
  await page.keyboard.press('j');
  assert.equal(await focusedRow(page), keys[1], 'j: the next row');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  assert.equal(await focusedRow(page), keys[1], 'k: the row before');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focusedRow(page), keys[2], 'arrow down in the list');
  await page.keyboard.press('o');
  const reader = page.getByRole('article', { name: 'Message' });
  await reader.getByText('Message number 1').first().waitFor();
  await page.keyboard.press('u');
  await reader.waitFor({ state: 'detached' });
  assert.equal(await focusedRow(page), keys[2], 'u: back on the row it opened');

  // # deletes the row and the focus lands on the next one.
  await page.keyboard.press('#');
  await page.waitForFunction(() => /^3 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  await page.waitForFunction((k) => document.activeElement?.closest('.msg-row')?.dataset.key === k, keys[3]);
  assert.deepEqual(await rowKeys(page), [keys[0], keys[1], keys[3]]);
  // The last row deleted: the one before takes the focus.
  await page.keyboard.press('#');
  await page.waitForFunction(() => /^2 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  await page.waitForFunction((k) => document.activeElement?.closest('.msg-row')?.dataset.key === k, keys[1]);

  // Shift+U marks unread, Shift+I read; s flags (stored).
  await page.keyboard.press('Shift+U');
  await page.waitForFunction(() => document.querySelector('.msg-row:focus')?.classList.contains('unread'));
  await page.keyboard.press('s');
  await page.waitForFunction(async (uidl) => {
    const open = indexedDB.open('postbag');
    await new Promise((r) => { open.onsuccess = r; });
    const all = await new Promise((r) => {
      const req = open.result.transaction('summaries').objectStore('summaries').getAll();
      req.onsuccess = () => r(req.result);
    });
    open.result.close();
    return all.find((s) => s.uidl === uidl)?.flagged === true;
  }, keys[1].split('\u001f')[1]);

  // ? shows the shortcuts; Escape puts them away.
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  await help.getByText('Next conversation').waitFor();
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });

  // / goes to the search box, where keys are typed, not obeyed.
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'search');
  await page.keyboard.type('jk#');
  assert.equal(await page.getByLabel('Search mail').inputValue(), 'jk#');
  assert.equal((await storedSummaries(page)).length >= 2, true);
  assert.deepEqual(errors, []);
  await context.close();
});
