// A long list end to end: 3,000 messages imported through Settings as one mbox file, and the
// list keeps only the rows in view (plus a few) in the DOM, while screen readers still hear
// the whole count (aria-setsize), the last message is reached by scrolling, the keyboard moves
// past the rendered rows with the row it is on (or the message open) kept in view, and a list
// scrolled far down survives a switch to a shorter folder; a search that finds them all lists
// the best 500 and "Show more" the next 500.
// Run: node --test tests/e2e/app_long_list.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFixture, launchBrowser, screenshotDir } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';

const N = 3000;
/** More rows than this in the DOM means the list renders what is out of view. */
const MOST_ROWS = 60;

let fx, browser;
before(async () => {
  fx = await startFixture();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

/** N messages, one a minute, numbered from 1 (oldest) to N (newest), each its own thread. */
function mbox() {
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  let out = '';
  for (let i = 1; i <= N; i++) {
    const n = String(i).padStart(4, '0');
    const date = new Date(t0 + i * 60000).toUTCString().replace('GMT', '+0000');
    out += `From sender${i % 7}@example.org Mon Jan  1 00:00:00 2024\n`
      + `From: Sender ${i % 7} <sender${i % 7}@example.org>\nTo: me@example.org\n`
      + `Subject: Long list ${n}\nDate: ${date}\nMessage-ID: <${i}@long.example>\n\n`
      + `Body of message ${n}.\n\n`;
  }
  return Buffer.from(out);
}

/** What the list shows and holds: rows in the DOM, and those wholly inside the scroller. */
const listState = (page) => page.evaluate(() => {
  const scroller = document.querySelector('.msg-scroller').getBoundingClientRect();
  const rows = [...document.querySelectorAll('.msg-list [role=option]')];
  const inView = (r) => {
    const b = r.getBoundingClientRect();
    return b.top >= scroller.top - 1 && b.bottom <= scroller.bottom + 1;
  };
  const selected = rows.find((r) => r.getAttribute('aria-selected') === 'true');
  const focused = document.activeElement;
  return {
    rows: rows.length,
    setsize: [...new Set(rows.map((r) => r.getAttribute('aria-setsize')))],
    visible: rows.filter(inView).map((r) => Number(r.getAttribute('aria-posinset'))).sort((a, b) => a - b),
    subjects: rows.filter(inView).map((r) => r.querySelector('.subject').textContent),
    selected: selected ? { at: Number(selected.getAttribute('aria-posinset')), inView: inView(selected) } : null,
    focusedRow: focused?.closest?.('.msg-row') ? {
      at: Number(focused.getAttribute('aria-posinset')), inView: inView(focused),
    } : null,
    focusOnPage: focused === document.body || focused === null,
  };
});

test('3,000 messages: a bounded number of rows, the last one reached, the keyboard kept in view', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await longList(page, errors);
  } catch (e) {
    // A wait that timed out says little; the page's own error (a panic) says why.
    e.message += `\npage errors: ${JSON.stringify(errors)}`;
    throw e;
  } finally {
    await context.close();
  }
});

async function longList(page, errors) {
  const user = await fx.newUser();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, user, { policy: 'leave', test: false });
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Import mail (mbox or .eml)').setInputFiles({
    name: 'long.mbox', mimeType: 'application/mbox', buffer: mbox(),
  });
  const status = page.getByRole('status', { name: 'Import status' }).locator('.banner');
  await status.getByText(`Imported ${N} messages.`).waitFor({ timeout: 120000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('tab', { name: 'Imported' }).click();
  await page.waitForFunction((n) => document.querySelector('.msg-count')?.textContent.startsWith(`${n} messages`), N);
  // Let the work after an import (the search index) settle: it may render the list anew.
  await page.waitForTimeout(1000);

  // The list holds imported mail: no folder tab counts its unread as the folder's own.
  assert.deepEqual(await page.locator('[role=tab] .count').allTextContents(), [], 'folder tabs count no imported mail');

  let s = await listState(page);
  assert.ok(s.rows > 0 && s.rows <= MOST_ROWS, `rows in the DOM: ${s.rows}`);
  assert.deepEqual(s.setsize, [String(N)], 'every row tells the whole count');
  assert.equal(s.visible[0], 1);
  assert.equal(s.subjects[0], `Long list ${N}`, 'newest first');

  // Scrolled to the bottom: the oldest message shows, as the last option of N.
  await page.locator('.msg-scroller').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForFunction((n) => [...document.querySelectorAll('.msg-list [role=option]')]
    .some((r) => r.getAttribute('aria-posinset') === String(n)), N);
  s = await listState(page);
  assert.equal(s.visible.at(-1), N, `the last row in view: ${JSON.stringify(s.visible)}`);
  assert.equal(s.subjects.at(-1), 'Long list 0001');
  assert.ok(s.rows <= MOST_ROWS, `rows in the DOM at the bottom: ${s.rows}`);

  // A folder of none while scrolled far down, and back: the list still works.
  await page.getByRole('tab', { name: 'Inbox' }).click();
  await page.getByText('No messages yet.', { exact: false }).waitFor();
  await page.getByRole('tab', { name: 'Imported' }).click();
  await page.waitForFunction((n) => document.querySelector('.msg-count')?.textContent.startsWith(`${n} messages`), N);
  await page.locator('.msg-scroller').evaluate((el) => { el.scrollTop = 0; });
  await page.waitForFunction(() => document.querySelector('.msg-list [aria-posinset="1"]'));

  // j past the rendered rows: the focused row is always one in view.
  await page.locator('.msg-list [aria-posinset="1"]').focus();
  for (let i = 0; i < 40; i++) await page.keyboard.press('j');
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-posinset') === '41');
  s = await listState(page);
  assert.deepEqual(s.focusedRow, { at: 41, inView: true }, 'j forty times: row 41 focused, in view');
  assert.ok(s.rows <= MOST_ROWS, `rows in the DOM: ${s.rows}`);

  // Reading: j opens the next message; the row of the message open stays in view.
  await page.keyboard.press('o');
  const reader = page.getByRole('article', { name: 'Message' });
  await reader.getByText(`Body of message ${String(N - 40).padStart(4, '0')}`).waitFor();
  for (let i = 0; i < 30; i++) await page.keyboard.press('j');
  await reader.getByText(`Body of message ${String(N - 70).padStart(4, '0')}`).waitFor();
  await page.waitForFunction(() => document.querySelector('.msg-list [aria-selected=true]')?.getAttribute('aria-posinset') === '71');
  s = await listState(page);
  assert.deepEqual(s.selected, { at: 71, inView: true }, 'the message open is row 71, in view');
  assert.equal(s.focusOnPage, false, 'the focus is somewhere, not dropped to the page');
  // k back up past the window the other way.
  for (let i = 0; i < 50; i++) await page.keyboard.press('k');
  await reader.getByText(`Body of message ${String(N - 20).padStart(4, '0')}`).waitFor();
  await page.waitForFunction(() => document.querySelector('.msg-list [aria-selected=true]')?.getAttribute('aria-posinset') === '21');
  s = await listState(page);
  assert.deepEqual(s.selected, { at: 21, inView: true }, 'the message open is row 21, in view');

  // u: back to the list, on the row it opened, in view.
  await page.keyboard.press('u');
  await reader.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-posinset') === '21');
  s = await listState(page);
  assert.deepEqual(s.focusedRow, { at: 21, inView: true });
  assert.ok(s.rows <= MOST_ROWS, `rows in the DOM: ${s.rows}`);

  // A word in every message: the best 500 are listed, with the count and "Show more".
  await page.getByLabel('Search mail').fill('list');
  const more = page.locator('.search-more');
  await more.getByText(`The best 500 of 3,000 messages found are shown.`).waitFor();
  s = await listState(page);
  assert.deepEqual(s.setsize, ['500'], 'the list holds the best page');
  assert.equal(s.subjects[0], `Long list ${N}`, 'newest first among equals');
  await more.getByRole('button', { name: 'Show more' }).click();
  await more.getByText(`The best 1,000 of 3,000 messages found are shown.`).waitFor();
  s = await listState(page);
  assert.deepEqual(s.setsize, ['1000']);
  assert.ok(s.rows <= MOST_ROWS, `rows in the DOM: ${s.rows}`);
  const shots = screenshotDir();
  await page.screenshot({ path: join(shots, 'app-search-best-page.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await more.getByRole('button', { name: 'Show more' }).waitFor();
  await page.screenshot({ path: join(shots, 'app-search-best-page-phone.png') });
  assert.deepEqual(errors, []);
}
