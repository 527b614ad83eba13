// Mail in legacy charsets end to end: a Japanese message with an ISO-2022-JP subject, a
// Shift_JIS sender name and an 8-bit Shift_JIS body, delivered into the real Dovecot and
// synced through the real proxy, reads as Japanese in the list and the reader and is found
// by a word of its body with the network gone. The app is built without mail-parser's
// encoding tables: the browser's TextDecoder decodes these (frontend/src/mail/legacy_charset.rs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, launchBrowser } from './fixture.mjs';
import { setupAccount, sync } from './app_support.mjs';

let fx, browser;
before(async () => {
  fx = await startFixture();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

test('a Shift_JIS and ISO-2022-JP message reads as Japanese and is found offline', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 1);
  await fx.deliver(user, 'legacy-japanese', 1);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, user, { policy: 'leave' });
  assert.match(await sync(page), /2 new messages/);
  await context.setOffline(true);

  // Newest first: the Japanese message is dated after the plain one.
  const row = page.locator('.msg-row').first();
  assert.equal((await row.locator('.subject').textContent()).trim(), '会議の予定');
  assert.match(await row.textContent(), /山田太郎/);

  await row.click();
  const reader = page.getByRole('article', { name: 'Message' });
  await reader.getByText('来週の打ち合わせは水曜日です。').waitFor();
  assert.match(await reader.textContent(), /山田太郎/);

  await page.getByLabel('Search mail').fill('水曜日');
  let subjects = [];
  for (let i = 0; i < 100; i++) {
    subjects = (await page.locator('.msg-row .subject').allTextContents()).map((s) => s.trim());
    if (subjects.length === 1) break;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(subjects, ['会議の予定']);
  await context.close();
});
