// Checking mail while Postbag is closed (Chromium's Periodic Background Sync): an account opted
// in to background checks is checked by the service worker, with the app's own wasm, when a
// `periodicsync` event for the tag `postbag-check` comes. Here the event is dispatched through
// the DevTools protocol (ServiceWorker.dispatchPeriodicSyncEvent), as the browser would fire
// it. While a tab holds the account's session lock the worker leaves the account alone (no
// login); with no page of the app open it downloads the new mail with exactly one login, and
// the app, opened offline, lists it. The notification is looked at where the browser grants
// the permission (this headless Chromium keeps it at "default").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { setUpAccount, syncAll, waitForWorker } from './pwa_support.mjs';

const FIRST = 2;
const LATER = 3;
const profile = mkdtempSync(join(tmpdir(), 'postbag-background-profile-'));

let fx, user;
before(async () => {
  fx = await startFixture();
  user = await fx.newUser();
  await fx.deliver(user, 'plain', FIRST);
});
after(async () => {
  await fx?.close();
});

/** Polls `check` until it returns a truthy value, or fails with `what` after `ms`. */
async function until(check, what, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('a periodicsync event checks an opted-in account with no page open', async () => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    permissions: ['notifications'],
  });
  try {
    const origin = new URL(fx.appUrl).origin;
    await context.grantPermissions(['notifications'], { origin });
    const page = context.pages()[0] ?? (await context.newPage());
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(fx.appUrl);
    await waitForWorker(page);
    // The worker is a module worker: it imports the app's wasm-bindgen module.
    const scriptURL = await page.evaluate(async () => (await navigator.serviceWorker.ready).active.scriptURL);
    assert.match(scriptURL, /\/sw\.js$/);
    await setUpAccount(page, fx, user);
    await syncAll(page, FIRST);
    assert.equal(await fx.count(user), 0, 'the app downloaded and deleted the first mail');

    // Periodic Background Sync is granted to installed apps; the test grants it directly.
    const cdp = await context.newCDPSession(page);
    for (const name of ['periodic-background-sync', 'notifications']) {
      await cdp.send('Browser.setPermission', { origin, permission: { name }, setting: 'granted' });
    }
    await cdp.detach();

    // Opt in on the accounts screen (the session has the password: it was just typed).
    await page.getByRole('button', { name: 'Accounts' }).click();
    const email = `${user.name}@example.test`;
    const box = page.getByRole('checkbox', { name: email });
    await box.check();
    const kept = await until(
      () =>
        page.evaluate(
          () =>
            new Promise((resolve) => {
              const open = indexedDB.open('postbag-device');
              open.onsuccess = () => {
                const tx = open.result.transaction('background_secrets');
                const keys = tx.objectStore('background_secrets').getAllKeys();
                keys.onsuccess = () => resolve(keys.result.length);
                keys.onerror = () => resolve(0);
              };
              open.onerror = () => resolve(0);
            }),
        ),
      'the background secret',
      10000,
    );
    assert.equal(kept, 1);
    const stored = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const open = indexedDB.open('postbag-device');
          open.onsuccess = () => {
            const get = open.result.transaction('background_secrets').objectStore('background_secrets').getAll();
            get.onsuccess = () => resolve(JSON.stringify(get.result));
          };
        }),
    );
    assert.ok(!stored.includes(user.password), 'the password is never stored in the clear');
    const tags = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.ready;
      return r.periodicSync ? r.periodicSync.getTags() : null;
    });
    console.log(`periodicSync tags after opting in: ${JSON.stringify(tags)}`);

    // Close the app: only a blank page keeps the browser open.
    const blank = await context.newPage();
    await blank.goto('about:blank');
    await page.close();
    await fx.deliver(user, 'plain', LATER);
    const loginText = `Login: user=<${user.name}>`;
    const loginsBefore = await fx.logCount(loginText);

    // The browser's periodic check, dispatched through the DevTools protocol.
    const session = await context.newCDPSession(blank);
    const registrations = [];
    session.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await session.send('ServiceWorker.enable');
    const registration = await until(
      () => registrations.find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted),
      'the service worker registration',
      10000,
    );
    const dispatch = () =>
      session.send('ServiceWorker.dispatchPeriodicSyncEvent', {
        origin,
        registrationId: registration.registrationId,
        tag: 'postbag-check',
      });
    const lastCheck = (on) =>
      on.evaluate(
        () =>
          new Promise((resolve) => {
            const channel = new MessageChannel();
            channel.port1.onmessage = (event) => resolve(event.data);
            navigator.serviceWorker.controller.postMessage({ type: 'GET_BACKGROUND_CHECK' }, [channel.port2]);
          }),
      );

    // A tab holding the account's session lock (as while it checks): the worker leaves the
    // account alone, no login, nothing downloaded.
    const holder = await context.newPage();
    await holder.goto(fx.appUrl);
    await waitForWorker(holder);
    const [id] = await holder.evaluate(
      () =>
        new Promise((resolve) => {
          const open = indexedDB.open('postbag-device');
          open.onsuccess = () => {
            const keys = open.result.transaction('background_secrets').objectStore('background_secrets').getAllKeys();
            keys.onsuccess = () => resolve(keys.result);
          };
        }),
    );
    await holder.evaluate((name) => {
      navigator.locks.request(name, () => new Promise((release) => (window.releaseForTest = release)));
    }, `postbag-pop3 ${id}`);
    await dispatch();
    const skipped = await until(() => lastCheck(holder), 'the check while the lock is held', 30000);
    assert.deepEqual({ count: skipped.count }, { count: 0 }, JSON.stringify(skipped));
    assert.equal(await fx.count(user), LATER, 'nothing downloaded while a tab holds the lock');
    assert.equal(await fx.logCount(loginText), loginsBefore, 'no login while a tab holds the lock');
    await holder.evaluate(() => window.releaseForTest());
    await holder.close();

    // What the worker shows, looked at in the worker itself: this headless Chromium keeps the
    // notification permission at "default" whatever Playwright or the DevTools protocol grant,
    // so the worker is told it is granted, and its showNotification and setAppBadge record
    // what they are given (the worker is alive: it answered GET_BACKGROUND_CHECK just now).
    const worker = context.serviceWorkers().find((w) => w.url().startsWith(origin));
    assert.ok(worker, 'the service worker is running');
    await worker.evaluate(() => {
      self.shownForTest = [];
      self.badgeForTest = [];
      if (Notification.permission !== 'granted') {
        Object.defineProperty(Notification, 'permission', { get: () => 'granted', configurable: true });
      }
      self.registration.showNotification = (title, options) => {
        self.shownForTest.push({ title, body: options.body });
        return Promise.resolve();
      };
      navigator.setAppBadge = (n) => {
        self.badgeForTest.push(n);
        return Promise.resolve();
      };
    });

    await dispatch();
    await until(async () => (await fx.count(user)) === 0, 'the background check to download and delete', 90000);
    // The worker notified once for the account and set the badge to the unread count.
    const shown = await until(
      async () => {
        const got = await worker.evaluate(() => self.shownForTest);
        return got.length ? got : null;
      },
      "the worker's notification",
      10000,
    );
    assert.deepEqual(shown, [{ title: 'Postbag: new mail', body: `${LATER} new messages for ${email}` }]);
    const badge = await worker.evaluate(() => self.badgeForTest);
    assert.deepEqual(badge, [FIRST + LATER], 'the badge counts every unread message');
    await session.detach();
    const loginsAfter = await fx.logCount(loginText);
    assert.equal(loginsAfter - loginsBefore, 1, 'exactly one login for the background check');

    // The app, opened offline, lists the mail the worker stored; the worker notified.
    await context.setOffline(true);
    const again = await context.newPage();
    const response = await again.goto(fx.appUrl);
    assert.ok(response.fromServiceWorker(), 'the shell came from the service worker');
    // Same-subject mail is grouped into conversations: the count line tells the messages.
    await again.getByText(new RegExp(`^${FIRST + LATER} messages`)).waitFor({ timeout: 20000 });
    const checked = await again.evaluate(
      () =>
        new Promise((resolve) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = (event) => resolve(event.data);
          navigator.serviceWorker.controller.postMessage({ type: 'GET_BACKGROUND_CHECK' }, [channel.port2]);
        }),
    );
    assert.equal(checked?.count, LATER, `the worker's check: ${JSON.stringify(checked)}`);
  } finally {
    await context.close();
  }
});
