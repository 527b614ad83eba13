// A private deployment: the proxy wants an access token from every tunnel. The app asks for the
// access code where the refusal shows (Test connection, a sync), says when a code may be wrong,
// connects with the right one, keeps it in memory for the session, and stores it only sealed
// with the remembered password. Also: a page origin the proxy does not allow is named as such.
// Real Chromium, the real proxy, a real Dovecot (tests/e2e/fixture.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFixture, launchBrowser } from './fixture.mjs';
import { fillAccountForm, setupAccount, sync, storedSummaries } from './app_support.mjs';

// Hex, as the docs advise (`openssl rand -hex 32`): fresh per run, so a hit in storage is ours.
const TOKEN = randomBytes(16).toString('hex');

let fx, browser;
before(async () => {
  fx = await startFixture({ token: TOKEN });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

/** A fresh page that keeps the console, to check that no secret is ever logged. */
async function freshPage(url = fx.appUrl) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(e.message));
  await page.goto(url);
  return { context, page, logs };
}

/** Everything the page keeps at rest: every record of every IndexedDB store, and both web storages. */
function storedText(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('postbag');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const names = [...db.objectStoreNames];
      const tx = db.transaction(names);
      const dump = {};
      for (const name of names) {
        const req = tx.objectStore(name).getAll();
        req.onsuccess = () => { dump[name] = req.result; };
      }
      tx.oncomplete = () => {
        db.close();
        const web = (s) => Object.fromEntries(Object.keys(s).map((k) => [k, s.getItem(k)]));
        resolve(JSON.stringify({ idb: dump, local: web(localStorage), session: web(sessionStorage) }));
      };
      tx.onerror = () => reject(tx.error);
    };
  }));
}

function testResult(page) {
  return page.getByRole('status', { name: 'Connection test' });
}

test('Test connection asks for the access code, says a wrong one may be wrong, and works with the right one', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 3);
  const { context, page, logs } = await freshPage();
  await fillAccountForm(page, fx, user);
  assert.equal(await page.getByLabel('Access code', { exact: true }).count(), 0, 'no code field until the proxy asks');

  await page.getByRole('button', { name: 'Test connection' }).click();
  await testResult(page).getByText('This Postbag server needs an access code').waitFor({ timeout: 20000 });
  const field = page.getByLabel('Access code', { exact: true });
  assert.equal(await field.getAttribute('type'), 'password');

  await field.fill('not-the-code');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await testResult(page).getByText('the access code may be wrong').waitFor({ timeout: 20000 });

  // A code no WebSocket can carry is refused in the form, before any connection.
  await field.fill('two words');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByRole('alert').getByText('This is not an access code').waitFor();

  await field.fill(` ${TOKEN} `);
  await page.getByRole('button', { name: 'Test connection' }).click();
  await testResult(page).getByText('Connection works.').waitFor({ timeout: 20000 });
  assert.equal(await fx.count(user), 3, 'a test downloads and deletes nothing');

  // Checked only on Sync here (automatic checks are tested in app_checking.test.mjs).
  await page.getByLabel('Check for new mail every (minutes)').fill('');
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  assert.match(await sync(page), /3 new messages/);
  assert.equal((await storedSummaries(page)).length, 3);
  assert.equal(await fx.count(user), 0, 'deleted from the server after the local commit');

  // Not remembered: neither the code nor the password is at rest, and a new session asks again.
  const stored = await storedText(page);
  assert.ok(!stored.includes(TOKEN), 'the access code is not stored');
  assert.ok(!stored.includes(user.password), 'nor the password');
  await fx.deliver(user, 'plain', 1);
  await page.reload();
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.getByLabel(`Password for ${user.name}`).fill(user.password);
  await page.getByRole('button', { name: 'Unlock and sync' }).click();
  await page.getByRole('status', { name: 'Sync status' }).getByText('needs an access code').waitFor({ timeout: 20000 });
  await page.getByLabel('Access code', { exact: true }).fill(TOKEN);
  const before = Number(await page.locator('.status').getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Connect and sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout: 30000 });
  assert.match(await page.locator('.status').textContent(), /1 new message/);

  assert.deepEqual(logs.filter((l) => l.includes(TOKEN)), [], 'the code never reaches the console');
  await context.close();
});

test('a sync asks for the code, and a remembered code is sealed with the password', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 2);
  const { context, page, logs } = await freshPage();
  await fillAccountForm(page, fx, user);
  await page.getByLabel('Remember the password on this device').check();
  await page.getByLabel('Passphrase to encrypt the password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();

  assert.match(await sync(page), /needs an access code/);
  const prompt = page.getByRole('form', { name: 'Access code for this Postbag server' });
  await prompt.getByLabel('Access code').fill('not-the-code');
  let before = Number(await page.locator('.status').getAttribute('data-runs'));
  await prompt.getByRole('button', { name: 'Connect and sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout: 30000 });
  assert.match(await page.locator('.status').textContent(), /the access code may be wrong/);
  assert.equal(await fx.count(user), 2);

  await prompt.getByLabel('Access code').fill(TOKEN);
  await prompt.getByLabel('Remember it with the saved password').check();
  await prompt.getByLabel('Passphrase of the saved password').fill('correct horse battery');
  before = Number(await page.locator('.status').getAttribute('data-runs'));
  await prompt.getByRole('button', { name: 'Connect and sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout: 30000 });
  assert.match(await page.locator('.status').textContent(), /2 new messages/);
  assert.equal(await prompt.count(), 0, 'the prompt is gone once the code works');

  // Sealed at rest: neither secret in the clear anywhere the page stores things.
  const stored = await storedText(page);
  assert.ok(!stored.includes(TOKEN), 'the access code is not stored in the clear');
  assert.ok(!stored.includes(user.password), 'nor the password');
  assert.ok(!stored.includes('correct horse'), 'nor the passphrase');
  assert.match(stored, /"sealed_password":\{"salt"/);

  // A new session: the passphrase brings back the password and the code; no code is asked.
  await fx.deliver(user, 'plain', 1);
  await page.reload();
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.getByLabel('Passphrase to unlock the saved password').fill('correct horse battery');
  before = Number(await page.locator('.status').getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Unlock and sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout: 30000 });
  assert.match(await page.locator('.status').textContent(), /1 new message/);
  assert.equal(await page.getByLabel('Access code', { exact: true }).count(), 0);

  assert.deepEqual(logs.filter((l) => l.includes(TOKEN)), [], 'the code never reaches the console');
  await context.close();
});

test('a code entered at setup with "remember" is sealed with the password and comes back with it', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 1);
  const { context, page } = await freshPage();
  await fillAccountForm(page, fx, user);
  await page.getByRole('button', { name: 'Test connection' }).click();
  await testResult(page).getByText('needs an access code').waitFor({ timeout: 20000 });
  await page.getByLabel('Access code', { exact: true }).fill(TOKEN);
  await page.getByLabel('Remember the password on this device').check();
  await page.getByLabel('Passphrase to encrypt the password').fill('correct horse battery');
  await page.getByText('Stored encrypted with the password.').waitFor();
  // Checked only on Sync here (automatic checks are tested in app_checking.test.mjs).
  await page.getByLabel('Check for new mail every (minutes)').fill('');
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  const stored = await storedText(page);
  assert.ok(!stored.includes(TOKEN), 'the access code is not stored in the clear');
  assert.ok(!stored.includes(user.password), 'nor the password');

  await page.reload();
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.getByLabel('Passphrase to unlock the saved password').fill('correct horse battery');
  const before = Number(await page.locator('.status').getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Unlock and sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout: 30000 });
  assert.match(await page.locator('.status').textContent(), /1 new message/);
  await context.close();
});

test('a page origin the proxy does not allow is named as the cause', async () => {
  // No token here: a plain request passes, so the refusal of the socket is its Origin. The
  // fixture allows only http://127.0.0.1:PORT; the same app opened as localhost is refused.
  const open = await startFixture();
  try {
    const user = await open.newUser();
    const { context, page } = await freshPage(open.appUrl.replace('127.0.0.1', 'localhost'));
    await fillAccountForm(page, open, user);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await testResult(page).getByText('refused the connection from this page').waitFor({ timeout: 20000 });
    assert.match(await testResult(page).textContent(), /allowed_origins/);
    assert.equal(await page.getByLabel('Access code', { exact: true }).count(), 0, 'no code is asked for');
    await context.close();

    // The same proxy serves its allowed origin, the app offering postbag.v1 and no token.
    const ok = await freshPage(open.appUrl);
    await setupAccount(ok.page, open, user);
    await ok.context.close();
  } finally {
    await open.close();
  }
});
