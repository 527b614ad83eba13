// Writing and sending mail end to end: real Chromium, the real proxy, a real Postfix in front
// of a real Dovecot (tests/e2e/fixture.mjs). Alice writes while offline, the message waits in
// the outbox, and goes when the network is back; Bob's app downloads it over POP3 with its
// headers, text and attachment, and his reply reaches Alice threaded. A refused recipient is
// shown with the server's reason. Run: node --test tests/e2e/app_compose.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtureAndBrowser, screenshotDir } from './fixture.mjs';
import { setUpSending, setupAccount, sync } from './app_support.mjs';

// docs/screenshots only with POSTBAG_SCREENSHOTS=1 (see fixture.mjs).
const SHOTS = screenshotDir();
const env = fixtureAndBrowser();
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** Polls until `user`'s POP3 mailbox holds `n` messages (Postfix hands them on over LMTP). */
async function waitForMail(fx, user, n, timeout = 30000) {
  const end = Date.now() + timeout;
  while ((await fx.count(user)) < n) {
    if (Date.now() > end) throw new Error(`${user.name} has ${await fx.count(user)} of ${n} messages`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The message bytes Dovecot serves for `user`, as text. */
async function rawMessages(fx, user) {
  return (await fx.raw(user)).map((m) => Buffer.from(m.base64, 'base64').toString('latin1'));
}

function header(raw, name) {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  return line?.slice(name.length + 1).trim();
}

/** The outbox's items as the user sees them. */
function outboxItems(page) {
  return page.getByRole('list', { name: 'Outbox' }).locator('.out-item');
}

test('alice writes offline, the outbox sends when back online, bob reads it and his reply is threaded', async () => {
  const { fx, browser } = env;
  const alice = await fx.newUser();
  const bob = await fx.newUser();

  const aliceCtx = await browser.newContext({ viewport: DESKTOP });
  const page = await aliceCtx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, alice);
  await setUpSending(page, fx, alice, 'Alice Liddell');

  // Offline: the message is built and waits in IndexedDB.
  await aliceCtx.setOffline(true);
  await page.getByRole('button', { name: 'New message' }).click();
  const form = page.getByRole('form', { name: 'New message' });
  await form.getByLabel('To', { exact: true }).fill(bob.address);
  await form.getByLabel('Subject').fill('Plans for Friday ☕');
  await form.getByLabel('Message').fill('Hello Bob,\n\nthe map is attached.\n\nAlice');
  const attachment = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
  await form.locator('input[type=file]').setInputFiles({ name: 'map.bin', mimeType: 'application/octet-stream', buffer: attachment });
  await form.getByText('map.bin').waitFor();
  await form.getByText('Draft saved').waitFor();
  await page.screenshot({ path: join(SHOTS, 'app-compose-desktop.png') });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SHOTS, 'app-compose-phone.png') });
  await page.setViewportSize(DESKTOP);
  await form.getByRole('button', { name: 'Send' }).click();

  const item = outboxItems(page).first();
  await item.getByText('Waiting to be sent').waitFor();
  await page.getByRole('status', { name: 'Outbox status' }).getByText(/Offline/).waitFor({ timeout: 20000 });
  await page.screenshot({ path: join(SHOTS, 'app-outbox-offline-desktop.png') });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SHOTS, 'app-outbox-offline-phone.png') });
  await page.setViewportSize(DESKTOP);
  assert.equal(await fx.count(bob), 0, 'nothing left while offline');
  // The draft went with the message (one transaction): no draft is left behind.
  assert.equal(await page.getByRole('tab', { name: /Drafts/ }).locator('.count').count(), 0);

  // Back online: the `online` event sends it through the proxy to Postfix.
  await aliceCtx.setOffline(false);
  await page.getByRole('list', { name: 'Outbox' }).getByText('The outbox is empty.').waitFor({ timeout: 30000 });
  await waitForMail(fx, bob, 1);
  await page.getByRole('tab', { name: 'Sent' }).click();
  await page.getByRole('list', { name: 'Sent' }).getByText('Plans for Friday ☕').waitFor();

  // What Postfix delivered into Bob's mailbox, read by the fixture over POP3.
  const [raw] = await rawMessages(fx, bob);
  const messageId = header(raw, 'Message-ID');
  assert.match(messageId, /^<[0-9a-f]{32}@postbag\.test>$/, raw);
  assert.match(header(raw, "From"), new RegExp(`^"?Alice Liddell"? <${alice.address}>$`));
  assert.match(header(raw, "To"), new RegExp(`^<?${bob.address}>?$`));
  assert.match(header(raw, 'Subject'), /^=\?utf-8\?/i, 'the subject is an encoded word');
  assert.ok(header(raw, 'Date'), 'a Date header');
  assert.equal(header(raw, 'Bcc'), undefined);
  assert.match(raw, /Hello Bob,\r\n\r\nthe map is attached\./);
  const att = raw.match(/filename="?map\.bin"?\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/);
  assert.ok(att, `an attachment part: ${raw}`);
  assert.deepEqual(Buffer.from(att[1].replace(/\r\n/g, ''), 'base64'), attachment);

  // Bob's app downloads it and replies.
  const bobCtx = await browser.newContext({ viewport: DESKTOP });
  const bobPage = await bobCtx.newPage();
  await bobPage.goto(fx.appUrl);
  await setupAccount(bobPage, fx, bob);
  await setUpSending(bobPage, fx, bob, 'Bob');
  assert.match(await sync(bobPage), /1 new message/);
  await bobPage.locator('.msg-row').first().click();
  const reader = bobPage.getByRole('article', { name: 'Message' });
  await reader.getByRole('heading', { name: 'Plans for Friday ☕' }).waitFor();
  await reader.getByRole('list', { name: 'Attachments' }).getByText('map.bin').waitFor();
  await reader.getByRole('button', { name: 'Reply', exact: true }).click();
  const reply = bobPage.getByRole('form', { name: 'New message' });
  assert.equal(await reply.getByLabel('To', { exact: true }).inputValue(), `Alice Liddell <${alice.address}>`);
  assert.equal(await reply.getByLabel('Subject').inputValue(), 'Re: Plans for Friday ☕');
  const quoted = await reply.getByLabel('Message').inputValue();
  assert.match(quoted, /wrote:\n> Hello Bob,\n>\n> the map is attached\./, quoted);
  await reply.getByLabel('Message').press('Control+Home');
  await reply.getByLabel('Message').pressSequentially('Friday works.');
  await reply.getByRole('button', { name: 'Send' }).click();
  await bobPage.getByRole('list', { name: 'Outbox' }).getByText('The outbox is empty.').waitFor({ timeout: 30000 });

  await waitForMail(fx, alice, 1);
  const [answer] = await rawMessages(fx, alice);
  assert.equal(header(answer, 'In-Reply-To'), messageId);
  assert.equal(header(answer, 'References'), messageId);
  assert.match(answer, /^Friday works\./m);
  assert.match(answer, /^> the map is attached\./m);
  assert.deepEqual(errors, []);
  await aliceCtx.close();
  await bobCtx.close();
});

test('a refused recipient is named with the server reason; Discard removes the message', async () => {
  const { fx, browser } = env;
  const carol = await fx.newUser();
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, carol);
  await setUpSending(page, fx, carol, 'Carol');
  await page.getByRole('button', { name: 'New message' }).click();
  const form = page.getByRole('form', { name: 'New message' });
  await form.getByLabel('To', { exact: true }).fill(fx.refusedRecipient);
  await form.getByLabel('Subject').fill('Anyone there?');
  await form.getByLabel('Message').fill('Hello?');
  await form.getByRole('button', { name: 'Send' }).click();
  const item = outboxItems(page).first();
  await item.getByText('Not sent').waitFor({ timeout: 30000 });
  const reason = await item.locator('.out-reason').textContent();
  assert.match(reason, /^Recipient refused/, reason);
  assert.ok(reason.includes(fx.refusedRecipient), reason);
  assert.match(reason, /550 5\.1\.1/, reason);
  await page.screenshot({ path: join(SHOTS, 'app-outbox-failed-desktop.png') });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SHOTS, 'app-outbox-failed-phone.png'), fullPage: true });
  await page.setViewportSize(DESKTOP);
  await item.getByRole('button', { name: 'Discard' }).click();
  await page.getByRole('list', { name: 'Outbox' }).getByText('The outbox is empty.').waitFor();
  await ctx.close();
});

test('a draft saves itself while typing and survives a reload', async () => {
  const { fx, browser } = env;
  const dave = await fx.newUser();
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, dave);
  await page.getByRole('button', { name: 'New message' }).click();
  const form = page.getByRole('form', { name: 'New message' });
  await form.getByLabel('Subject').fill('Half written');
  await form.getByLabel('Message').fill('To be continued');
  await form.getByText('Draft saved').waitFor();
  await page.reload();
  await page.getByRole('tab', { name: /Drafts/ }).click();
  await page.getByRole('list', { name: 'Drafts' }).getByText('Half written').click();
  const resumed = page.getByRole('form', { name: 'New message' });
  assert.equal(await resumed.getByLabel('Message').inputValue(), 'To be continued');
  await resumed.getByRole('button', { name: 'Discard' }).click();
  await page.getByRole('list', { name: 'Drafts' }).getByText('No drafts.').waitFor();
  await ctx.close();
});
