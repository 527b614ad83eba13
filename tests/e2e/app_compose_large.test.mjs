// A large attachment goes out whole: the app hands the proxy a submitted message of several
// megabytes in pieces under the proxy's WebSocket message limit (1 MiB), through the real
// Postfix into Bob's Dovecot mailbox. Run: node --test tests/e2e/app_compose_large.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';
import { setUpSending, setupAccount } from './app_support.mjs';

const env = fixtureAndBrowser();

test('a 6 MB attachment reaches the recipient byte for byte', async () => {
  const { fx, browser } = env;
  const alice = await fx.newUser();
  const bob = await fx.newUser();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, alice, { test: false });
  await setUpSending(page, fx, alice, '', { implicit: true });

  await page.getByRole('button', { name: 'New message' }).click();
  const form = page.getByRole('form', { name: 'New message' });
  await form.getByLabel('To', { exact: true }).fill(bob.address);
  await form.getByLabel('Subject').fill('The whole archive');
  await form.getByLabel('Message').fill('Attached.');
  // Bytes that compress badly and repeat with no short period.
  const attachment = Buffer.alloc(6 << 20);
  for (let i = 0, x = 1; i < attachment.length; i++) { x = (x * 1103515245 + 12345) >>> 0; attachment[i] = x >>> 24; }
  await form.locator('input[type=file]').setInputFiles({ name: 'archive.bin', mimeType: 'application/octet-stream', buffer: attachment });
  await form.getByText('archive.bin').waitFor();
  await form.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('list', { name: 'Outbox' }).getByText('The outbox is empty.').waitFor({ timeout: 60000 });

  const end = Date.now() + 30000;
  while ((await fx.count(bob)) < 1) {
    if (Date.now() > end) throw new Error('nothing delivered to bob');
    await new Promise((r) => setTimeout(r, 200));
  }
  const raw = Buffer.from((await fx.raw(bob))[0].base64, 'base64').toString('latin1');
  const att = raw.match(/filename="?archive\.bin"?\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/);
  assert.ok(att, 'an attachment part');
  assert.ok(Buffer.from(att[1].replace(/\r\n/g, ''), 'base64').equals(attachment), 'the attachment arrives byte for byte');
  await context.close();
});

test('the proxy killed while a message is submitted: it is sent once, or waits for the user, never twice', async (t) => {
  const { fx, browser } = env;
  const alice = await fx.newUser();
  const bob = await fx.newUser();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await setupAccount(page, fx, alice, { test: false });
  await setUpSending(page, fx, alice, '', { implicit: true });

  await page.getByRole('button', { name: 'New message' }).click();
  const form = page.getByRole('form', { name: 'New message' });
  await form.getByLabel('To', { exact: true }).fill(bob.address);
  await form.getByLabel('Subject').fill('Cut in the middle');
  await form.getByLabel('Message').fill('Attached.');
  await form.locator('input[type=file]').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(8 << 20, 7) });
  await form.getByText('big.bin').waitFor();
  await form.getByRole('button', { name: 'Send' }).click();
  const outbox = page.getByRole('list', { name: 'Outbox' });
  await outbox.getByText('Sending…').waitFor({ timeout: 30000 });
  await fx.stopProxy();
  let outcome;
  try {
    // Where the cut fell decides the state: before the final `.` the message waits to be sent
    // again; after it, the server may have it, and the outbox waits for the user.
    const queued = outbox.getByText(/^Waiting to be sent/);
    const doubt = outbox.getByText(/^May have been sent/);
    const empty = outbox.getByText('The outbox is empty.');
    await queued.or(doubt).or(empty).first().waitFor({ timeout: 30000 });
    outcome = (await queued.count()) ? 'queued' : (await doubt.count()) ? 'doubt' : 'sent';
  } finally {
    await fx.startProxy();
  }
  t.diagnostic(`the cut left the message ${outcome}`);
  const count = async () => fx.count(bob);
  const delivered = async (n) => {
    const end = Date.now() + 30000;
    while ((await count()) < n) {
      if (Date.now() > end) throw new Error(`bob has ${await count()} of ${n} (${outcome})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  if (outcome === 'queued') {
    await outbox.getByRole('button', { name: 'Send now' }).click();
    await outbox.getByText('The outbox is empty.').waitFor({ timeout: 60000 });
    await delivered(1);
  } else if (outcome === 'sent') {
    await delivered(1);
  } else {
    // Not sent again on its own, whatever happens next.
    await page.waitForTimeout(3000);
    await outbox.getByText(/^May have been sent/).waitFor();
  }
  await page.waitForTimeout(2000);
  assert.ok((await count()) <= 1, `never twice: bob has ${await count()} (${outcome})`);
  if (outcome !== 'doubt') assert.equal(await count(), 1, outcome);
  await context.close();
});
