// Offline reading: mail synced from a real Dovecot through the real proxy stays readable when
// the network is gone. With the proxy stopped and the browser offline, a cold start (a new
// browser process on the same profile) renders the stored mailbox and opens a message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { listedCount, setUpAccount, syncAll, waitForWorker } from './pwa_support.mjs';

// Five plain messages and one HTML message (sanitised in the parser frame, which must come
// from the service worker's cache too).
const MESSAGES = 6;
const profile = mkdtempSync(join(tmpdir(), 'postbag-offline-profile-'));
const launch = () =>
  chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });

let fx, user;
before(async () => {
  fx = await startFixture();
  user = await fx.newUser();
  await fx.deliver(user, 'plain', MESSAGES - 1);
  await fx.deliver(user, 'html', 1);
});
after(async () => {
  await fx?.close();
});

test('synced mail is readable after an offline cold start', async () => {
  // Online: set up the account and sync through the real proxy.
  let context = await launch();
  let page = context.pages()[0] ?? (await context.newPage());
  await page.goto(fx.appUrl);
  await waitForWorker(page);
  await setUpAccount(page, fx, user);
  await syncAll(page, MESSAGES);
  assert.equal(await fx.count(user), 0, 'downloaded and deleted on the server (POP default)');
  // The first sync asked for durable storage and told the user the answer.
  const notice = page.locator('#pb-pwa-storage-notice');
  await notice.waitFor({ state: 'visible' });
  assert.match(await notice.innerText(), /durable|may clear stored mail/);
  const asked = await page.evaluate(() => localStorage.getItem('postbag.persistence-asked'));
  assert.ok(asked === 'granted' || asked === 'denied', `asked: ${asked}`);
  await context.close();

  // Offline: the proxy is gone and the browser has no network; start a new browser process.
  await fx.stopProxy();
  context = await launch();
  await context.setOffline(true);
  try {
    page = context.pages()[0] ?? (await context.newPage());
    const response = await page.goto(fx.appUrl);
    assert.ok(response.fromServiceWorker(), 'the shell came from the service worker');
    await page.locator('.msg-row').first().waitFor({ timeout: 20000 });
    assert.equal(await listedCount(page), MESSAGES);

    // Open a message: the reader shows its subject and body from IndexedDB.
    const row = page.locator('.msg-row').first();
    const subject = (await row.locator('.subject').innerText()).trim();
    assert.notEqual(subject, '');
    await row.click();
    const reader = page.locator('article.reader');
    await reader.waitFor({ timeout: 10000 });
    assert.equal((await reader.locator('h2.subject').innerText()).trim(), subject);
    const body = reader.locator('.text-body, iframe.html-body');
    await body.first().waitFor();

    // An HTML message too: its sanitiser's parser frame (parse.html) is served offline.
    await page.locator('.msg-row').filter({ hasText: 'Big sale' }).click();
    await page.frameLocator('iframe[title="Message body"]').getByText('Sale starts today').waitFor({ timeout: 10000 });
  } finally {
    await context.close();
    await fx.startProxy();
  }
});
