// Full-text search end to end: mail delivered into a real Dovecot with words only in its
// bodies (HTML, 8-bit UTF-8, a forwarded message, an attachment's name), synced through the
// real proxy, then found with the network gone; an operator combination; a deleted message
// leaves the answer (docs/search-index.md).
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

/** Types `text` in the search box and waits until the list shows exactly `subjects`. */
async function expectFound(page, text, subjects) {
  await page.getByLabel('Search mail').fill(text);
  await expectListed(page, subjects, `search ${JSON.stringify(text)}`);
}

/** Waits (10 s at most) until the list shows exactly `subjects`, whatever their order. */
async function expectListed(page, subjects, what) {
  const want = [...subjects].sort();
  let got;
  for (let i = 0; i < 100; i++) {
    got = (await page.locator('.msg-row .subject').allTextContents()).map((s) => s.trim()).sort();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(got, want, what);
}

test('words only in bodies are found offline; operators combine; a delete leaves the answer', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 2);
  await fx.deliver(user, 'html', 1);
  await fx.deliver(user, 'eightbit', 1);
  await fx.deliver(user, 'multipart', 1);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, user, { policy: 'leave' });
  assert.match(await sync(page), /5 new messages/);
  await context.setOffline(true);

  await expectFound(page, 'everything', ['Big sale, open now']); // the HTML's text
  await expectFound(page, 'shop', ['Big sale, open now']); // sender's domain
  await expectFound(page, 'tracker', []); // a link or image URL is no text
  await expectFound(page, 'revenue', ['Fwd: Quarterly report']); // the forwarded message
  await expectFound(page, 'png', ['Fwd: Quarterly report']); // the attachment's name
  await expectFound(page, 'tokyo', ['Grüße aus Tökyö']); // 8-bit UTF-8, diacritics folded
  await expectFound(page, 'ünïcödé', ['Grüße aus Tökyö']); // only in the body
  await expectFound(page, 'hello', ['Message number 0', 'Message number 1']);
  await expectFound(page, '"two lines of text"', ['Message number 0', 'Message number 1']);
  await expectFound(page, 'has:attachment revenue', ['Fwd: Quarterly report']);
  await expectFound(page, 'from:sender1 hello', ['Message number 1']);
  // Each row of an answer names its folder.
  assert.equal((await page.locator('.msg-row .folder-tag').allTextContents()).join(), 'Inbox');

  // Deleted (to Trash): gone from the answer; in:trash finds it there.
  await expectFound(page, 'everything', ['Big sale, open now']);
  await page.locator('.msg-row').first().click();
  await page.getByRole('article', { name: 'Message' }).getByRole('button', { name: 'Delete' }).click();
  await expectFound(page, 'everything', []);
  await expectFound(page, 'in:trash everything', ['Big sale, open now']);
  await context.close();
});

test('an answer on screen takes in mail that arrives while it is shown', async () => {
  // Queries ran only when the text changed: mail indexed after the answer (a sync's new mail,
  // an import) never showed until the user typed again.
  const user = await fx.newUser();
  await fx.deliver(user, 'list', 1);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, user, { policy: 'leave' });
  assert.match(await sync(page), /1 new message/);
  await expectFound(page, 'example', ['Team digest volume 0']);

  // Two more with the word arrive; the search box keeps its text through the sync.
  await fx.deliver(user, 'plain', 2);
  assert.match(await sync(page), /2 new messages/);
  assert.equal(await page.getByLabel('Search mail').inputValue(), 'example');
  await expectListed(page, ['Team digest volume 0', 'Message number 0', 'Message number 1'], 'the answer after the sync');
  await context.close();
});
