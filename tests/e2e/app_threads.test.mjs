// Conversations end to end: a reply to a reply delivered into the real Dovecot is grouped with
// what it answers (JWZ threading on Message-ID / In-Reply-To / References), the setting survives
// a reload, and mail stored before conversations existed gets its ids back-filled from its
// stored bytes. Run: node --test tests/e2e/app_threads.test.mjs

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
const countText = (page) => page.locator('.msg-count').textContent();
/** The data-key of the focused element, if it is a row of the list. */
const focusedRow = (page) => page.evaluate(() => document.activeElement?.closest('.msg-row')?.dataset.key ?? null);
const rowKeys = (page) => page.locator('.msg-row').evaluateAll((all) =>
  all.sort((a, b) => a.offsetTop - b.offsetTop).map((r) => r.dataset.key));

/** Summaries as stored before conversations existed: no ids, not yet read. */
function forgetIds(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('postbag');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('summaries', 'readwrite');
      const store = tx.objectStore('summaries');
      const req = store.getAll();
      req.onsuccess = () => {
        for (const s of req.result) {
          delete s.message_id; delete s.in_reply_to; delete s.references; delete s.ids_read;
          store.put(s);
        }
      };
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }));
}

test('a reply to a reply joins its conversation; the setting and back-filled ids survive reloads', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'thread', 3);
  await fx.deliver(user, 'plain', 2);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, user, { policy: 'leave', test: false });
  assert.match(await sync(page), /5 new messages/);

  await page.waitForFunction(() => document.querySelector('.msg-count')?.textContent === '5 messages in 3 conversations');
  assert.equal(await rows(page).count(), 3);
  const trip = rows(page).filter({ hasText: 'Plans for the trip' });
  assert.match(await trip.getAttribute('aria-label'), /^Unread: 3 messages from Friend 0, Friend 1, Friend 2, Re: Plans for the trip/);
  assert.equal(await trip.locator('.thread-count').textContent(), '3');
  const stored = await storedSummaries(page);
  const last = stored.find((s) => s.message_id === 'trip-2@example.org');
  assert.deepEqual(last.references, ['trip-0@example.org', 'trip-1@example.org']);
  assert.equal(last.in_reply_to, 'trip-1@example.org');

  // Opening it shows the newest message, the two before it collapsed, in order.
  await trip.click();
  const reader = page.getByRole('article', { name: 'Message' });
  await reader.getByText('Trip message 2: see you at the station.').waitFor();
  const conversation = reader.getByRole('region', { name: 'Conversation, 3 messages' });
  const items = conversation.locator('details.thread-item');
  assert.equal(await items.count(), 2);
  assert.deepEqual(await items.locator('summary .from').allTextContents(), ['Friend 0', 'Friend 1']);
  assert.equal(await conversation.locator('.text-body').count(), 0, 'collapsed: sender, date and snippet only');
  await items.first().locator('summary').click();
  await items.first().locator('.text-body').getByText('Trip message 0: see you at the station.').waitFor();

  // Off: one row per message, and it stays off after a reload.
  await page.getByLabel('Group into conversations').uncheck();
  await page.waitForFunction(() => document.querySelector('.msg-count')?.textContent === '5 messages');
  assert.equal(await rows(page).count(), 5);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('.msg-count')?.textContent === '5 messages');
  assert.equal(await page.getByLabel('Group into conversations').isChecked(), false);
  assert.equal(await rows(page).count(), 5);
  await page.getByLabel('Group into conversations').check();
  await page.reload();
  await page.waitForFunction(() => document.querySelector('.msg-count')?.textContent === '5 messages in 3 conversations');

  // Mail stored by an older build has no ids: they are read again from the stored bytes.
  await forgetIds(page);
  assert.ok((await storedSummaries(page)).every((s) => s.ids_read === undefined));
  await page.reload();
  await page.waitForFunction(() => document.querySelector('.msg-count')?.textContent === '5 messages in 3 conversations');
  let again = [];
  for (let i = 0; i < 100; i++) {
    again = await storedSummaries(page);
    if (again.every((s) => s.ids_read === true)) break;
    await page.waitForTimeout(100);
  }
  assert.ok(again.every((s) => s.ids_read === true), 'every summary back-filled');
  assert.deepEqual(again.find((s) => s.uidl === last.uidl).references, last.references);
  assert.deepEqual(errors, []);
  await context.close();
});
