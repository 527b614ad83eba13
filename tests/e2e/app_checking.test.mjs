// Automatic checking end to end (issue 15, items 2 and 3), with Playwright's clock: new mail
// delivered into Dovecot appears without a click; logins (each one a tunnel the page opens)
// come no closer than the interval, nor than the LOGIN-DELAY the scripted server announces;
// a refused sign-in stops automatic checks until the account is fixed; two tabs never hold two
// POP3 sessions of one account; new mail raises a notification and sets the app badge, and the
// notification permission is asked from a click only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';
import { fillAccountForm } from './app_support.mjs';

const env = fixtureAndBrowser();

/** A page whose clock Playwright controls, and the tunnels (one per POP3 session) it opens. */
async function clockedPage(options = {}) {
  const context = await env.browser.newContext(options);
  const page = await context.newPage();
  await page.clock.install();
  const tunnels = [];
  page.on('websocket', (ws) => tunnels.push(ws));
  await page.goto(env.fx.appUrl);
  return { context, page, tunnels };
}

function count(page, n) {
  return page.waitForFunction(
    (n) => new RegExp(`^${n} messages?`).test(document.querySelector('.msg-count')?.textContent ?? ''), n,
    { timeout: 30000 });
}

function runs(page) {
  return page.locator('.status').getAttribute('data-runs').then(Number);
}

async function runsReach(page, n) {
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) >= n, n, { timeout: 30000 });
}

async function until(done, what, ms = 30000) {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Lets the page work for `ms` of real time (the fake clock does not move meanwhile). */
const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms));

const checks = (page) => page.getByRole('status', { name: 'Automatic checks' });

test('new mail appears by itself, checks keep to the interval, and the network coming back checks at once', async () => {
  const { fx } = env;
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 2);
  const { context, page, tunnels } = await clockedPage();
  await fillAccountForm(page, fx, user, { policy: 'leave', checkEvery: '5' });
  await page.getByRole('button', { name: 'Save account' }).click();
  // Checked at once when saved: no Sync pressed.
  await count(page, 2);
  await runsReach(page, 1);
  assert.equal(tunnels.length, 1);
  await checks(page).getByText('Next check in 5 min').waitFor();

  await fx.deliver(user, 'plain', 3);
  // Four minutes later: not yet.
  await page.clock.fastForward('04:00');
  await settle();
  assert.equal(tunnels.length, 1, 'no login before the interval');
  await checks(page).getByText('Next check in 1 min').waitFor();
  // Past five minutes: the new mail arrives without a click.
  await page.clock.fastForward('01:10');
  await count(page, 5);
  assert.equal(tunnels.length, 2);
  // The network coming back checks at once (Dovecot sets no login delay).
  await fx.deliver(user, 'plain', 1);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await count(page, 6);
  assert.equal(tunnels.length, 3);
  // The network coming back while a check runs is not lost: another check follows that one
  // (the clock stands still, so no tick would make up for it). A large message keeps the first
  // check busy while the second 'online' arrives.
  await fx.deliver(user, 'large:20000000', 1);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await until(() => tunnels.length === 4, 'the check after online');
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await count(page, 7);
  await until(() => tunnels.length === 5, 'a check for the online during a check');
  await context.close();
});

test('LOGIN-DELAY: no login sooner than the server allows, even on Sync or when the network returns', async () => {
  const { fx } = env;
  const { context, page, tunnels } = await clockedPage();
  // The scripted server announces LOGIN-DELAY 900 and refuses user "delayed" with it.
  await page.getByLabel('Email address').fill('delayed@example.org');
  await page.getByLabel('Email address').press('Tab');
  await page.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Security', { exact: true }).selectOption('none');
  await page.getByLabel('Port', { exact: true }).fill(String(fx.scriptedPort));
  await page.getByLabel('User name').fill('delayed');
  await page.getByLabel('Password or app password').fill('secret');
  await page.getByLabel('Check for new mail every (minutes)').fill('1');
  await page.getByRole('button', { name: 'Save account' }).click();
  await runsReach(page, 1);
  await page.getByText(/Login delay: the server asks you to wait/).waitFor();
  assert.equal(tunnels.length, 1);
  await checks(page).getByText('Next check in 15 min').waitFor();
  // A one-minute interval and a failure's backoff would try again within minutes: 14 pass.
  for (let i = 0; i < 7; i++) {
    await page.clock.fastForward('02:00');
    await settle(300);
  }
  await settle();
  assert.equal(tunnels.length, 1, 'no login within the 900 s LOGIN-DELAY');
  // Sync pressed: told, not logged in.
  const before = await runs(page);
  await page.getByRole('button', { name: 'Sync', exact: true }).click();
  await runsReach(page, before + 1);
  await page.getByText(/allows the next login in (1 min|\d+ s) \(LOGIN-DELAY\)/).waitFor();
  assert.equal(tunnels.length, 1);
  // The network coming back asks for a check: still not before the delay.
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await settle();
  assert.equal(tunnels.length, 1);
  // Past 15 minutes: the next login.
  await page.clock.fastForward('01:10');
  await runsReach(page, before + 2);
  assert.equal(tunnels.length, 2);
  await context.close();
});

test('a refused sign-in stops automatic checks until the password is fixed', async () => {
  const { fx } = env;
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 1);
  const { context, page, tunnels } = await clockedPage();
  await fillAccountForm(page, fx, { ...user, password: 'not the password' }, { checkEvery: '1' });
  await page.getByRole('button', { name: 'Save account' }).click();
  await runsReach(page, 1);
  await checks(page).getByText('Checking paused: sign-in failed').waitFor();
  for (let i = 0; i < 5; i++) {
    await page.clock.fastForward('02:00');
    await settle(300);
  }
  await settle();
  assert.equal(tunnels.length, 1, 'no automatic login after a refused sign-in');
  // Fixed in Settings: checks start again, and the mail arrives.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Password or app password').fill(user.password);
  await page.getByRole('button', { name: 'Save account' }).click();
  await count(page, 1);
  await checks(page).getByText('Next check in 1 min').waitFor();
  assert.equal(tunnels.length, 2);
  await context.close();
});

test('two tabs never hold two POP3 sessions of one account', async () => {
  const { fx, browser } = env;
  const user = await fx.newUser();
  const context = await browser.newContext();
  const [one, two] = [await context.newPage(), await context.newPage()];
  // Each tunnel's life, from either tab.
  const lives = [];
  for (const page of [one, two]) {
    page.on('websocket', (ws) => {
      const life = { opened: Date.now(), closed: null };
      lives.push(life);
      ws.on('close', () => { life.closed = Date.now(); });
    });
  }
  await one.goto(fx.appUrl);
  await fillAccountForm(one, fx, user, { policy: 'leave' });
  await one.getByRole('button', { name: 'Save account' }).click();
  await one.getByRole('button', { name: 'Sync', exact: true }).waitFor();
  await two.goto(fx.appUrl);
  // The second tab has no password yet: Sync asks for it, then checks.
  await two.getByRole('button', { name: 'Sync', exact: true }).click();
  await two.getByLabel(/Password for/).fill(user.password);
  await two.getByRole('button', { name: 'Unlock and sync' }).click();
  await runsReach(two, 1);

  // While one tab is in a session (holding the account's lock, as the app does), the other's
  // Sync opens none and says why.
  const name = `postbag-pop3 ${user.name}@example.org`;
  await one.evaluate((name) => {
    window.__held = new Promise((held) => {
      navigator.locks.request(name, () => { held(); return new Promise((r) => { window.__release = r; }); });
    });
    return window.__held;
  }, name);
  const tunnelsBefore = lives.length;
  let before = await runs(two);
  await two.getByRole('button', { name: 'Sync', exact: true }).click();
  await runsReach(two, before + 1);
  await two.getByText('being checked in another Postbag tab').waitFor();
  assert.equal(lives.length, tunnelsBefore, 'no session while the other tab holds the account');
  await one.evaluate(() => window.__release());
  before = await runs(two);
  await two.getByRole('button', { name: 'Sync', exact: true }).click();
  await runsReach(two, before + 1);
  assert.equal(lives.length, tunnelsBefore + 1, 'a session once the other tab let go');

  // A large message keeps a session open a while; both tabs press Sync at once.
  await fx.deliver(user, 'large:20000000', 1);
  const [r1, r2] = [await runs(one), await runs(two)];
  await Promise.all([
    one.getByRole('button', { name: 'Sync', exact: true }).click(),
    two.getByRole('button', { name: 'Sync', exact: true }).click(),
  ]);
  await runsReach(one, r1 + 1);
  await runsReach(two, r2 + 1);
  await one.getByRole('button', { name: 'Sync', exact: true }).waitFor({ timeout: 60000 });
  await two.getByRole('button', { name: 'Sync', exact: true }).waitFor({ timeout: 60000 });
  await settle(500);
  // No two sessions overlapped (whether the clicks met inside one session depends on timing).
  const spans = lives.map((l) => [l.opened, l.closed ?? Infinity]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    assert.ok(spans[i][0] >= spans[i - 1][1], `sessions overlap: ${JSON.stringify(spans)}`);
  }
  await context.close();
});

test('new mail raises a notification and sets the badge; permission only from a click', async () => {
  const { fx, browser } = env;
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 2);
  const context = await browser.newContext();
  // What the page asks of the browser, recorded (headless Chromium shows neither).
  await context.addInitScript(() => {
    window.__asked = 0;
    window.__notes = [];
    window.__badges = [];
    let permission = 'default';
    class Recorded {
      constructor(title, options) { window.__notes.push({ title, body: options?.body }); }
      static get permission() { return permission; }
      static async requestPermission() { window.__asked += 1; permission = 'granted'; return permission; }
    }
    window.Notification = Recorded;
    navigator.setAppBadge = async (n) => { window.__badges.push(n); };
    navigator.clearAppBadge = async () => { window.__badges.push(0); };
  });
  const page = await context.newPage();
  await page.goto(fx.appUrl);
  await fillAccountForm(page, fx, user, { policy: 'leave', checkEvery: '5' });
  await page.getByRole('button', { name: 'Save account' }).click();
  await count(page, 2);
  // Never asked at load or by a check; no permission, no notification.
  assert.equal(await page.evaluate(() => window.__asked), 0);
  assert.deepEqual(await page.evaluate(() => window.__notes), []);
  assert.equal(await page.evaluate(() => window.__badges.at(-1)), 2, 'the badge counts the unread');

  await page.getByRole('button', { name: 'Accounts' }).click();
  await page.getByRole('button', { name: 'Notify me of new mail' }).click();
  await page.getByText('New mail raises a notification').waitFor();
  assert.equal(await page.evaluate(() => window.__asked), 1);
  await page.getByRole('button', { name: 'Back to mail' }).click();

  await fx.deliver(user, 'plain', 1);
  const before = await runs(page);
  await page.getByRole('button', { name: 'Sync', exact: true }).click();
  await runsReach(page, before + 1);
  await count(page, 3);
  assert.deepEqual(await page.evaluate(() => window.__notes), [
    { title: 'Postbag: new mail', body: `1 new message for ${user.name}@example.org` },
  ]);
  assert.equal(await page.evaluate(() => window.__badges.at(-1)), 3);
  // Reading one lowers the badge.
  await page.getByRole('listbox', { name: 'Messages' }).getByRole('option').first().click();
  await page.waitForFunction(() => window.__badges.at(-1) === 2);
  await context.close();
});
