// The server policies that until now were tested against a scripted server only, end to end
// against Dovecot (issue 15, item 4): "leave on the server, delete after some days" (Playwright's
// clock moves the days on) and "delete on the server when I delete a message here". Delete after
// download and leave on the server are in app_accounts and app_mail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';
import { fillAccountForm, sync, storedSummaries } from './app_support.mjs';

const env = fixtureAndBrowser();
const DAY_MS = 86_400_000;

test('leave for 14 days: kept on the server until then, deleted there once the days passed', async () => {
  const { fx, browser } = env;
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 2);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.clock.install();
  await page.goto(fx.appUrl);
  await fillAccountForm(page, fx, user, { policy: 'days' });
  await page.getByLabel('Days to keep on the server').fill('14');
  await page.getByRole('button', { name: 'Save account' }).click();
  assert.match(await sync(page), /2 new messages/);
  assert.equal(await fx.count(user), 2, 'kept on the server');

  await page.clock.fastForward(13 * DAY_MS);
  assert.match(await sync(page), /No new messages/);
  assert.equal(await fx.count(user), 2, 'still kept after 13 days');

  await page.clock.fastForward(2 * DAY_MS);
  const text = await sync(page);
  assert.match(text, /No new messages, 2 removed from the server/, text);
  assert.equal(await fx.count(user), 0, 'deleted on the server after 14 days');
  assert.equal((await storedSummaries(page)).length, 2, 'and kept here');
  await context.close();
});

test('delete on the server when deleted here: only the message deleted here goes', async () => {
  const { fx, browser } = env;
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 3);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await fillAccountForm(page, fx, user, { policy: 'leave' });
  await page.getByLabel('Delete on the server when I delete a message here').check();
  await page.getByRole('button', { name: 'Save account' }).click();
  assert.match(await sync(page), /3 new messages/);
  assert.equal(await fx.count(user), 3);

  await page.getByRole('listbox', { name: 'Messages' }).getByRole('option').filter({ hasText: 'Message number 1' }).click();
  await page.getByRole('article', { name: 'Message' }).waitFor();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.waitForFunction(() => /^2 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  // In Trash it is still here and on the server; deleted for good from Trash, it is queued.
  assert.match(await sync(page), /No new messages/);
  assert.equal(await fx.count(user), 3, 'a message in Trash stays on the server');
  await page.locator('.folders .folder[data-folder="trash"]').click();
  await page.locator('.msg-row').filter({ hasText: 'Message number 1' }).click();
  await page.getByRole('button', { name: 'Delete forever', exact: true }).click();
  await page.waitForFunction(() => /^0 messages/.test(document.querySelector('.msg-count')?.textContent ?? ''));
  assert.equal(await fx.count(user), 3, 'nothing is deleted on the server before the next sync');

  const text = await sync(page);
  assert.match(text, /1 removed from the server/, text);
  assert.equal(await fx.count(user), 2);
  const left = (await fx.raw(user)).map((m) => Buffer.from(m.base64, 'base64').toString());
  assert.ok(left.every((m) => !m.includes('Message number 1')), 'the one deleted here is the one gone');
  assert.equal((await storedSummaries(page)).length, 2);
  await context.close();
});

test('keep at most 2 on the server: the oldest beyond 2 go once stored here, the newest stay', async () => {
  const { fx, browser } = env;
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 5);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await fillAccountForm(page, fx, user, { policy: 'newest' });
  await page.getByLabel('Messages to keep on the server').fill('2');
  await page.getByRole('button', { name: 'Save account' }).click();
  let text = await sync(page);
  assert.match(text, /5 new messages, 3 removed from the server/, text);
  assert.equal(await fx.count(user), 2, 'two left on the server');
  const body = (m) => Buffer.from(m.base64, 'base64').toString();
  const left = (await fx.raw(user)).map(body);
  assert.ok(left.some((m) => m.includes('Message number 3')) && left.some((m) => m.includes('Message number 4')),
    'the two newest are the ones left');
  assert.equal((await storedSummaries(page)).length, 5, 'all five kept here');

  // Two more arrive: the next sync stores them, and the server again holds only the newest two.
  await fx.deliver(user, 'plain', 2);
  text = await sync(page);
  assert.match(text, /2 new messages, 2 removed from the server/, text);
  assert.equal(await fx.count(user), 2);
  assert.equal((await storedSummaries(page)).length, 7);
  await context.close();
});

test('a server announcing EXPIRE 0 against "Leave on the server": the connection test and the sync say the copy here is the only one', async () => {
  const { fx, browser } = env;
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  // The scripted server announces EXPIRE 0 and lets user "expire0" in to an empty mailbox.
  await page.getByLabel('Email address').fill('expire0@example.org');
  await page.getByLabel('Email address').press('Tab');
  await page.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Security', { exact: true }).selectOption('none');
  await page.getByLabel('Port', { exact: true }).fill(String(fx.scriptedPort));
  await page.getByLabel('User name').fill('expire0');
  await page.getByLabel('Password or app password').fill('secret');
  await page.getByLabel('After download').selectOption('leave');
  await page.getByLabel('Check for new mail every (minutes)').fill('');
  await page.getByRole('button', { name: 'Test connection' }).click();
  const result = page.getByRole('status', { name: 'Connection test' });
  await result.getByText('Connection works.').waitFor({ timeout: 20000 });
  await result.getByText(/deletes messages once they are downloaded \(EXPIRE 0\)/).waitFor();
  await page.getByRole('button', { name: 'Save account' }).click();
  const text = await sync(page);
  assert.match(text, /No new messages/, text);
  assert.match(text, /EXPIRE 0\): they cannot be left on the server, and the copy here is the only one/, text);
  await context.close();
});
