// "Sign in with …" in the app, against real parts: a real OpenID provider
// (tests/oidc/provider.mjs, the `oidc-provider` package) listed in the real proxy's
// [[oauth_clients]], and Dovecot's `passdb oauth2` asking that provider about every token.
// The user clicks "Sign in with Test ID" in the setup form, signs in on the provider's own
// pages in the popup, and the app (a public client: PKCE S256, state, nonce) gets tokens that
// log in to Dovecot by OAUTHBEARER. Access tokens live SHORT_TTL seconds: the app refreshes
// before a sync once half of that is gone, seals the rotated tokens again (a reload and the
// passphrase bring back tokens that still refresh), and after the grant is revoked shows
// "Sign in again", which signs in and checks again. Sending uses the same token (SMTP AUTH
// OAUTHBEARER to Postfix, which asks Dovecot). No token is ever in IndexedDB, web storage
// or the console in the clear, nor in Dovecot's log.
//
// A confidential client (its secret in the proxy's configuration only, client_secret_basic at
// the provider, as Google's Web application clients want it) signs in the same way, its code
// exchange and refreshes posted to the proxy's /oauth/token and never to the provider from the
// page. A token the provider drops early (Dovecot then refuses it, unexpired) is refreshed once
// and the sync goes through, and so does a send (SMTP AUTH through Postfix); after the grant is revoked a refused login gets one refused
// refresh and "Sign in again", and nothing more.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ROOT, startFixture, launchBrowser } from './fixture.mjs';
import { setUpSending, sync } from './app_support.mjs';

/** Seconds an access token lives; the app refreshes once half of it is gone. */
const SHORT_TTL = 20;
const PASSPHRASE = 'correct horse battery';

let provider;
let fx;
let browser;

/** A free loopback port for the proxy: the provider must know the app's redirect URI first. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startProvider(args) {
  const child = spawn(process.execPath, [join(ROOT, 'tests', 'oidc', 'provider.mjs'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!line.startsWith('oidc-provider WARNING')) process.stderr.write(`${line}\n`);
  });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`provider exited (${code})`)));
  });
  return {
    ...JSON.parse(line),
    close: () => new Promise((resolve) => { child.once('exit', resolve); child.stdin.end(); }),
  };
}

/**
 * The provider and the fixture, with the proxy on a port the provider's redirect URI names.
 * That port is freed here and bound again by the fixture, so another process can take it in
 * between; the whole start is tried again on a new port then (three times at most).
 */
async function startProviderAndFixture() {
  for (let attempt = 1; ; attempt++) {
    const proxyPort = await freePort();
    const started = await startProvider([
      '--short-ttl', String(SHORT_TTL), '--user', 'user0', '--user', 'user1',
      '--redirect-uri', `http://127.0.0.1:${proxyPort}/oauth-callback.html`,
    ]);
    try {
      const fixture = await startFixture({
        proxyPort,
        oauthIntrospection: started.introspection_url,
        oauthClients: [
          { provider: 'oidc', client_id: started.short_client_id, issuer: started.issuer, name: 'Test ID' },
          {
            provider: 'oidc',
            client_id: started.confidential_client_id,
            issuer: started.issuer,
            name: 'Test Web Client',
            client_secret: started.confidential_client_secret,
            client_auth: 'client_secret_basic',
            token_endpoint: `${started.issuer}/token`,
          },
        ],
      });
      return { provider: started, fixture };
    } catch (err) {
      await started.close();
      if (attempt >= 3) throw err;
      process.stderr.write(`fixture did not start on port ${proxyPort} (${err.message}); trying another port\n`);
    }
  }
}

before(async () => {
  ({ provider, fixture: fx } = await startProviderAndFixture());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await fx?.close();
  await provider?.close();
});

/** Everything the page keeps at rest: every IndexedDB store, and both web storages. */
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

/** The provider's pages in the popup that `click` opens: login (unless its session is still
 * open), consent; the popup closes itself once it handed the code to the app. */
async function signInInPopup(page, click, logs, name = 'user0') {
  const popupOpened = page.waitForEvent('popup');
  await click();
  const popup = await popupOpened;
  popup.on('console', (m) => logs.push(m.text()));
  // The provider's pages send COOP same-origin, which cuts the popup off from the app (it reads
  // as closed): the app keeps waiting for the answer, with a way to give up.
  await page.getByRole('button', { name: 'Cancel sign-in' }).waitFor({ timeout: 10000 });
  const login = popup.locator('input[name=login]');
  const consent = popup.getByRole('button', { name: 'Continue' });
  await login.or(consent).first().waitFor({ timeout: 20000 });
  if (await login.count()) {
    await login.fill(name);
    await popup.fill('input[name=password]', 'typed-on-the-providers-page');
    await popup.click('button[type=submit]');
  }
  const closed = popup.waitForEvent('close', { timeout: 20000 });
  await consent.click();
  await closed;
}

test('sign in with the provider, sync by OAUTHBEARER, refresh ahead of expiry, survive a reload, and sign in again after a revocation', async () => {
  const user = await fx.newUser();
  assert.equal(user.name, 'user0');
  await fx.deliver(user, 'plain', 3);
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(e.message));
  // What the token endpoint gave the app, and which grants it asked for (read by the test only).
  const tokens = [];
  const grants = [];
  let lastRefresh;
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url() === `${provider.issuer}/token`) {
      grants.push(new URLSearchParams(req.postData()).get('grant_type'));
    }
  });
  page.on('response', async (res) => {
    if (res.request().method() === 'POST' && res.url() === `${provider.issuer}/token`) {
      const body = await res.json().catch(() => ({}));
      for (const t of [body.access_token, body.refresh_token, body.id_token]) if (t) tokens.push(t);
      if (body.refresh_token) lastRefresh = body.refresh_token;
    }
  });
  await page.goto(fx.appUrl);
  await page.getByLabel('Email address').fill('user0@example.org');
  await page.getByLabel('Email address').press('Tab');
  await page.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Port', { exact: true }).fill(String(fx.pop3sPort));
  await page.getByLabel('User name').fill('user0');
  await page.getByLabel('After download').selectOption('leave');
  await page.getByLabel('Check for new mail every (minutes)').fill('');

  await signInInPopup(page, () => page.getByRole('button', { name: 'Sign in with Test ID' }).click(), logs);
  await page.getByText('Signed in with Test ID').waitFor({ timeout: 20000 });
  assert.deepEqual(grants, ['authorization_code']);
  assert.equal(await page.getByLabel('Password or app password').count(), 0, 'no password field once signed in');
  await page.getByLabel('Remember the password on this device').check();
  await page.getByLabel('Passphrase to encrypt the password').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Test connection' }).click();
  const result = page.getByRole('status', { name: 'Connection test' });
  await result.getByText('Connection works.').waitFor({ timeout: 20000 });
  assert.match(await result.innerText(), /Logged in with\s+OAUTHBEARER/);
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  assert.match(await sync(page), /^3 new messages/);
  assert.ok(await fx.logHas('user=<user0>, method=OAUTHBEARER'), 'Dovecot logged no OAUTHBEARER login');
  assert.deepEqual(grants, ['authorization_code'], 'a fresh token is not refreshed');
  const sealedBefore = JSON.parse(await storedText(page)).idb.accounts[0].oauth.sealed_tokens;
  assert.ok(sealedBefore.ciphertext, 'the tokens are sealed in the account');

  // Half the access token's life gone: the next sync refreshes first, then logs in.
  await new Promise((resolve) => setTimeout(resolve, (SHORT_TTL / 2 + 1) * 1000));
  await fx.deliver(user, 'plain', 2);
  assert.match(await sync(page), /^2 new messages/);
  assert.deepEqual(grants, ['authorization_code', 'refresh_token']);
  const sealedAfter = JSON.parse(await storedText(page)).idb.accounts[0].oauth.sealed_tokens;
  assert.notEqual(sealedAfter.ciphertext, sealedBefore.ciphertext, 'the refreshed tokens are sealed again');

  // Sending logs in to Postfix (SMTP AUTH through Dovecot's passdb oauth2) with the same
  // token: a message to the account's own address arrives in its mailbox.
  await setUpSending(page, fx, user, 'User Zero');
  await page.getByRole('button', { name: 'New message' }).click();
  const form = page.getByRole('form', { name: 'New message' });
  await form.getByLabel('To', { exact: true }).fill(user.address);
  await form.getByLabel('Subject').fill('Sent with a token');
  await form.getByLabel('Message').fill('Signed in with Test ID.');
  await form.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('list', { name: 'Outbox' }).getByText('The outbox is empty.').waitFor({ timeout: 30000 });
  for (let i = 0; i < 100 && await fx.count(user) < 6; i += 1) await new Promise((r) => setTimeout(r, 200));
  assert.equal(await fx.count(user), 6, 'the message sent with the token arrived');

  // A reload forgets the tokens; the passphrase unseals the refreshed ones, whose (rotated)
  // refresh token still works: the first one is spent.
  grants.length = 0;
  await page.reload();
  await new Promise((resolve) => setTimeout(resolve, (SHORT_TTL / 2 + 1) * 1000));
  await fx.deliver(user, 'plain', 1);
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.getByLabel('Passphrase to unlock the saved password').fill(PASSPHRASE);
  const runs = Number(await page.locator('.status').getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Unlock and sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, runs, { timeout: 30000 });
  assert.match(await page.getByRole('status', { name: 'Sync status' }).innerText(), /2 new messages/);
  assert.deepEqual(grants, ['refresh_token'], 'after the reload: one refresh, with the resealed token');

  // Revoked at the provider: the next refresh is refused, checking pauses, "Sign in again".
  const refresh = lastRefresh;
  const revoked = await fetch(`${provider.issuer}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refresh, token_type_hint: 'refresh_token', client_id: provider.short_client_id }),
  });
  assert.equal(revoked.status, 200);
  await new Promise((resolve) => setTimeout(resolve, (SHORT_TTL / 2 + 1) * 1000));
  await page.getByRole('button', { name: 'Sync' }).click();
  const again = page.getByRole('button', { name: 'Sign in again' });
  await again.waitFor({ timeout: 20000 });
  assert.match(await page.getByRole('alert').filter({ hasText: 'expired or was revoked' }).innerText(), /user0@example\.org/);
  await fx.deliver(user, 'plain', 1);
  const before = Number(await page.locator('.status').getAttribute('data-runs'));
  await signInInPopup(page, () => again.click(), logs);
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout: 30000 });
  assert.match(await page.getByRole('status', { name: 'Sync status' }).innerText(), /1 new message/);
  assert.equal(await again.count(), 0, 'signed in again: the banner is gone');

  // No token in the clear at rest, in the console, or in Dovecot's log.
  const stored = await storedText(page);
  assert.ok(tokens.length >= 8, `tokens seen: ${tokens.length}`);
  for (const t of tokens) {
    assert.equal(stored.includes(t), false, 'a token is stored in the clear');
    assert.equal(logs.some((l) => l.includes(t)), false, 'a token reached the console');
    assert.equal(await fx.logHas(t), false, 'a token is in Dovecot\'s log');
  }
  await context.close();
});

test('a confidential client signs in through the proxy; a token refused while unexpired is refreshed once; a revoked grant asks to sign in again without a loop', async () => {
  // user1 after the first test, user0 when it runs alone: the provider knows both.
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 2);
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(e.message));
  const proxied = [];
  const direct = [];
  const sentByPage = [];
  const tokens = [];
  let access;
  let refresh;
  const proxyRoute = (url) => url.startsWith(new URL(fx.appUrl).origin) && new URL(url).pathname === '/oauth/token';
  page.on('request', (req) => {
    if (req.method() !== 'POST') return;
    if (proxyRoute(req.url())) {
      proxied.push(new URLSearchParams(req.postData()).get('grant_type'));
      sentByPage.push(req.postData());
    }
    if (req.url().startsWith(`${provider.issuer}/token`)) direct.push(req.url());
  });
  page.on('response', async (res) => {
    if (res.request().method() === 'POST' && proxyRoute(res.url())) {
      const body = await res.json().catch(() => ({}));
      for (const t of [body.access_token, body.refresh_token, body.id_token]) if (t) tokens.push(t);
      if (body.access_token) access = body.access_token;
      if (body.refresh_token) refresh = body.refresh_token;
    }
  });
  await page.goto(fx.appUrl);
  await page.getByLabel('Email address').fill(`${user.name}@example.org`);
  await page.getByLabel('Email address').press('Tab');
  await page.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Port', { exact: true }).fill(String(fx.pop3sPort));
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('After download').selectOption('leave');
  await page.getByLabel('Check for new mail every (minutes)').fill('');
  await signInInPopup(page, () => page.getByRole('button', { name: 'Sign in with Test Web Client' }).click(), logs, user.name);
  await page.getByText('Signed in with Test Web Client').waitFor({ timeout: 20000 });
  assert.deepEqual(proxied, ['authorization_code'], 'the code went to the proxy');
  assert.deepEqual(direct, [], 'the page posted nothing to the provider\'s token endpoint');
  assert.ok(sentByPage.every((body) => !body.includes('client_secret')), 'the page sent a secret');
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  assert.match(await sync(page), /^2 new messages/);
  assert.ok(await fx.logHas(`user=<${user.name}>, method=OAUTHBEARER`), 'Dovecot logged no OAUTHBEARER login');

  // The provider drops the access token an hour early: Dovecot refuses it, the app refreshes
  // once (through the proxy) and the same sync goes through.
  const forgetAccessToken = (token) => fetch(`${provider.issuer}/_test/forget-access-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  const dropped = await forgetAccessToken(access);
  assert.equal(dropped.status, 204);
  assert.ok((await fx.oauthLogin(user, 'oauthbearer', access)).refused, 'Dovecot still takes the dropped token');
  await fx.deliver(user, 'plain', 1);
  assert.match(await sync(page), /^1 new message/);
  assert.deepEqual(proxied, ['authorization_code', 'refresh_token']);

  // Sending meets the same rule: the new token dropped too, Postfix (asking Dovecot) refuses
  // SMTP AUTH, the outbox refreshes once and the message goes.
  await setUpSending(page, fx, user, 'User One');
  assert.equal((await forgetAccessToken(access)).status, 204);
  await page.getByRole('button', { name: 'New message' }).click();
  const form = page.getByRole('form', { name: 'New message' });
  await form.getByLabel('To', { exact: true }).fill(user.address);
  await form.getByLabel('Subject').fill('Sent after a refused token');
  await form.getByLabel('Message').fill('Refreshed once.');
  await form.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('list', { name: 'Outbox' }).getByText('The outbox is empty.').waitFor({ timeout: 30000 });
  for (let i = 0; i < 100 && await fx.count(user) < 4; i += 1) await new Promise((r) => setTimeout(r, 200));
  assert.equal(await fx.count(user), 4, 'the message sent after one refresh arrived');
  assert.deepEqual(proxied, ['authorization_code', 'refresh_token', 'refresh_token']);

  // The grant revoked at the provider: the login is refused, the one refresh is refused, and
  // the mailbox asks to sign in again; no more logins or refreshes follow.
  const basic = Buffer.from(`${provider.confidential_client_id}:${provider.confidential_client_secret}`).toString('base64');
  const revoked = await fetch(`${provider.issuer}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: new URLSearchParams({ token: refresh, token_type_hint: 'refresh_token' }),
  });
  assert.equal(revoked.status, 200);
  await page.getByRole('button', { name: 'Sync' }).click();
  const again = page.getByRole('button', { name: 'Sign in again' });
  await again.waitFor({ timeout: 30000 });
  assert.match(await page.getByRole('alert').filter({ hasText: 'expired or was revoked' }).innerText(), new RegExp(`${user.name}@example\\.org`));
  // The sync's own line says the same, not the password account's "Wrong user name or password".
  const status = page.getByRole('status', { name: 'Sync status' });
  await status.getByText('expired or was revoked').waitFor({ timeout: 10000 });
  const told = await status.innerText();
  assert.match(told, new RegExp(`^${user.name}@example\\.org: the sign-in has expired or was revoked; sign in again\\.`));
  assert.doesNotMatch(told, /password/i);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.deepEqual(proxied, ['authorization_code', 'refresh_token', 'refresh_token', 'refresh_token'], 'one refresh after the refusal, no loop');

  const stored = await storedText(page);
  assert.ok(tokens.length >= 4, `tokens seen: ${tokens.length}`);
  for (const t of [...tokens, provider.confidential_client_secret]) {
    assert.equal(stored.includes(t), false, 'a token or the secret is stored in the clear');
    assert.equal(logs.some((l) => l.includes(t)), false, 'a token or the secret reached the console');
    assert.equal(await fx.logHas(t), false, 'a token or the secret is in Dovecot\'s log');
  }
  await context.close();
});

test('a blocked sign-in window is named, with "Try again", which opens it from a new click', async () => {
  const context = await browser.newContext();
  // The browser's pop-up blocker, as a user who never allowed pop-ups here meets it:
  // window.open answers null until the test lets windows through.
  await context.addInitScript(() => {
    const open = window.open.bind(window);
    window.blockPopups = true;
    window.open = (...args) => (window.blockPopups ? null : open(...args));
  });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(e.message));
  let popups = 0;
  page.on('popup', () => { popups += 1; });
  await page.goto(fx.appUrl);
  await page.getByLabel('Email address').fill('user0@example.org');
  await page.getByRole('button', { name: 'Sign in with Test ID' }).click();
  const blocked = page.getByRole('alert').filter({ hasText: 'Allow pop-ups for this site to sign in' });
  await blocked.waitFor({ timeout: 10000 });
  assert.equal(popups, 0);
  assert.equal(await page.getByRole('button', { name: 'Cancel sign-in' }).count(), 0, 'no sign-in is left waiting');
  // Allowed now: "Try again" is a click of its own, so the browser opens the window.
  await page.evaluate(() => { window.blockPopups = false; });
  await signInInPopup(page, () => blocked.getByRole('button', { name: 'Try again' }).click(), logs);
  await page.getByText('Signed in with Test ID').waitFor({ timeout: 20000 });
  assert.equal(await blocked.count(), 0, 'the notice is gone once signed in');
  assert.equal(popups, 1);
  await context.close();
});
