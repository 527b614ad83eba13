// Slow and metered links (issue 15, item 5) against a real Dovecot through the real proxy: an
// account with a 1 MB size limit and delete-after-download. A 5 MB message arrives
// headers-first (Dovecot answers TOP n 40): the list shows it, the reader says only its start
// is here with the whole's size, and Dovecot still holds it after every sync. "Download the
// rest" fetches it with RETR: the stored bytes then equal, byte for byte, what Dovecot serves by
// RETR (the fixture reads them with its own POP3), and only then is it deleted there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtureAndBrowser, screenshotDir } from './fixture.mjs';
import { fillAccountForm, storedSummaries, sync } from './app_support.mjs';

const env = fixtureAndBrowser();

const SHOTS = screenshotDir();
const LARGE = 5_000_000;

/** The stored bytes of one message (base64), read straight from the app's IndexedDB. */
function storedBase64(page, account, uidl) {
  return page.evaluate(([account, uidl]) => new Promise((resolve, reject) => {
    const open = indexedDB.open('postbag');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction('bodies').objectStore('bodies').get([account, uidl]);
      req.onsuccess = () => {
        const bytes = new Uint8Array(req.result);
        let text = '';
        for (let i = 0; i < bytes.length; i += 0x8000) {
          text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        }
        db.close();
        resolve(btoa(text));
      };
      req.onerror = () => reject(req.error);
    };
  }), [account, uidl]);
}

test('above the size limit a message arrives headers-first, stays on the server, and "Download the rest" brings it whole, byte for byte', async () => {
  const { fx, browser } = env;
  const user = await fx.newUser();
  await fx.deliver(user, `large:${LARGE}`, 1);
  await fx.deliver(user, 'plain', 2);
  const [large] = (await fx.raw(user)).filter((m) => Buffer.from(m.base64, 'base64').length >= LARGE);
  assert.ok(large, 'Dovecot serves the large message');
  const whole = Buffer.from(large.base64, 'base64');

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await fillAccountForm(page, fx, user, { policy: 'delete' });
  await page.getByLabel('Download only the start of messages larger than (MB)').fill('1');
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();

  const first = await sync(page, { timeout: 120000 });
  assert.match(first, /^3 new messages, 2 removed from the server/, first);
  assert.match(first, /1 message stays on the server although the policy deletes it: only the start is stored here/, first);
  assert.equal(await fx.count(user), 1, 'the large message stays on the server');
  // Dovecot's own count of the session: one TOP, the two small messages by RETR.
  assert.ok(await fx.logHas('top=1/'), 'Dovecot logged one TOP');

  // Stored: the headers and the first lines, marked partial with the whole's size.
  const account = `${user.name}@example.org`;
  const summaries = await storedSummaries(page);
  const partial = summaries.find((s) => s.uidl === large.uidl);
  assert.equal(partial.partial_of, whole.length);
  const start = Buffer.from(await storedBase64(page, account, large.uidl), 'base64');
  assert.ok(start.length < 20_000, `only the start: ${start.length} bytes`);
  assert.ok(whole.subarray(0, start.length).equals(start), 'the start is Dovecot\'s first bytes');
  const lines = start.toString('latin1').split('\r\n\r\n')[1].split('\r\n').filter(Boolean);
  assert.equal(lines.length, 40, 'the headers and the first 40 body lines');

  // Listed (the row names the whole's size) and readable: the reader says plainly that only
  // the start is here.
  const row = page.getByRole('listbox', { name: 'Messages' }).getByRole('option').filter({ hasText: 'A large message' });
  assert.match(await row.innerText(), /start of 4\.8 MB/);
  await row.click();
  const reader = page.getByRole('article', { name: 'Message' });
  const banner = reader.getByRole('note', { name: 'Partial message' });
  await banner.waitFor();
  assert.match(await banner.innerText(), /Only the start of this message is here .* the whole message is 4\.8 MB on the server/);
  assert.match(await reader.innerText(), /A large message of 5000000 bytes/);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SHOTS, 'app-partial-message.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, 'app-partial-message-phone.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'nothing wider than the phone');
  await page.setViewportSize({ width: 1280, height: 800 });

  // Another sync: nothing downloaded again, still not deleted.
  const second = await sync(page);
  assert.match(second, /^No new messages/, second);
  assert.equal(await fx.count(user), 1, 'still on the server after the second sync');

  // Download the rest: RETR, stored whole byte for byte, then deleted on the server.
  const runs = Number(await page.locator('.status').getAttribute('data-runs'));
  await banner.getByRole('button', { name: 'Download the rest' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, runs, { timeout: 120000 });
  const status = page.getByRole('status', { name: 'Sync status' }).locator('.banner.ok, .banner.error, .banner.offline');
  const done = (await status.first().textContent()).trim();
  assert.match(done, /The whole message is here \(4\.8 MB\), and removed from the server\./, done);
  const stored = Buffer.from(await storedBase64(page, account, large.uidl), 'base64');
  assert.equal(stored.length, whole.length);
  assert.ok(stored.equals(whole), 'byte for byte what Dovecot serves by RETR');
  assert.equal(await fx.count(user), 0, 'deleted only once the whole body is stored');
  const after = (await storedSummaries(page)).find((s) => s.uidl === large.uidl);
  assert.equal(after.partial_of, null);
  await banner.waitFor({ state: 'detached' });
  assert.match(await reader.innerText(), /Size\s+4\.8 MB/);
  await context.close();
});
