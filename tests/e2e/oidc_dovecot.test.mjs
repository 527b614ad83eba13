// OAuth 2 against real parts: a real OpenID provider (tests/oidc/provider.mjs, the
// `oidc-provider` package) and Dovecot's `passdb oauth2` asking it about every token by
// introspection. Chromium signs in on the provider's own login and consent pages
// (authorization code with PKCE S256); the token goes to Dovecot over POP3S by the protocol
// crate's client with SASL XOAUTH2 and OAUTHBEARER (the fixture's `oauth-login`), and
// Dovecot's log names each method. An expired access token is refused and a refresh (no
// login page) gives one that works; a revoked grant refuses both its tokens.
//
// The app's own "Sign in with …" flow against the same parts: app_oauth.test.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ROOT, startFixture, launchBrowser } from './fixture.mjs';

/** Seconds an access token of the short-lived client lives. After a refused login Dovecot
 * slows the address's next logins (its auth penalty; the refreshed token's login took 5.9 s
 * here), and it asks the provider only after that delay: the refreshed token must outlive it. */
const SHORT_TTL = 12;

let provider;
let fx;
let browser;

/** Starts the provider for `users`; resolves with its JSON line and a `close`. */
async function startProvider(users) {
  const args = [join(ROOT, 'tests', 'oidc', 'provider.mjs'), '--short-ttl', String(SHORT_TTL)];
  for (const u of users) args.push('--user', u);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // The package warns that it runs with development keys and interactions, which is the
  // point here; anything else it says goes to the test's output.
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!line.startsWith('oidc-provider WARNING')) process.stderr.write(`${line}\n`);
  });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`provider exited (${code})`)));
  });
  return {
    ...JSON.parse(line),
    close: () => new Promise((resolve) => {
      child.once('exit', resolve);
      child.stdin.end();
    }),
  };
}

before(async () => {
  // The fixture's users are user0, user1, ... in the order the tests ask for them.
  provider = await startProvider(['user0', 'user1', 'user2']);
  fx = await startFixture({ oauthIntrospection: provider.introspection_url });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await fx?.close();
  await provider?.close();
});

/** Form-posts `fields` to the provider's `path`; resolves with status and JSON body. */
async function post(path, fields) {
  const res = await fetch(new URL(path, provider.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/**
 * The browser half of the authorization code flow with PKCE: the provider's login page, its
 * consent page, and the redirect back with the code (caught as a request: nothing listens
 * there). Then the code exchange, as the app would do it. Resolves with the token response.
 */
async function signIn(user, clientId) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL('/auth', provider.issuer);
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: provider.redirect_uri,
    scope: 'openid offline_access',
    // offline_access (a refresh token) needs the consent prompt.
    prompt: 'consent',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const back = new Promise((resolve) => {
      page.on('request', (req) => {
        if (req.url().startsWith(provider.redirect_uri)) resolve(new URL(req.url()));
      });
    });
    await page.goto(url.href);
    await page.fill('input[name=login]', user.name);
    await page.fill('input[name=password]', 'typed-on-the-providers-page');
    await page.click('button[type=submit]');
    await page.getByRole('button', { name: 'Continue' }).click();
    const redirect = await back;
    assert.equal(redirect.searchParams.get('state'), state);
    const code = redirect.searchParams.get('code');
    assert.ok(code, `no code in the redirect: ${redirect.search.replace(/code=[^&]*/, 'code=…')}`);
    const token = await post('/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: provider.redirect_uri,
      client_id: clientId,
      code_verifier: verifier,
    });
    assert.equal(token.status, 200, `token endpoint: ${token.body.error}`);
    assert.ok(token.body.access_token && token.body.refresh_token);
    return token.body;
  } finally {
    await context.close();
  }
}

// First, while no refused login has slowed this address down yet.
test('an expired access token is refused; a refresh, without the login page, gives one that works', async () => {
  const user = await fx.newUser();
  const tokens = await signIn(user, provider.short_client_id);
  await new Promise((resolve) => setTimeout(resolve, (SHORT_TTL + 1) * 1000));
  const expired = await fx.oauthLogin(user, 'xoauth2', tokens.access_token);
  assert.match(expired.refused ?? '', /AuthFailed/);
  const refreshed = await post('/token', {
    grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token,
    client_id: provider.short_client_id,
  });
  assert.equal(refreshed.status, 200, `refresh: ${refreshed.body.error}`);
  assert.notEqual(refreshed.body.access_token, tokens.access_token);
  assert.deepEqual(await fx.oauthLogin(user, 'xoauth2', refreshed.body.access_token), { mechanism: 'XOAUTH2' });
});

test('a token from the provider\'s login page logs in to Dovecot by XOAUTH2 and OAUTHBEARER', async () => {
  const user = await fx.newUser();
  assert.equal(user.name, 'user1');
  const tokens = await signIn(user, provider.client_id);
  assert.deepEqual(await fx.oauthLogin(user, 'xoauth2', tokens.access_token), { mechanism: 'XOAUTH2' });
  assert.deepEqual(await fx.oauthLogin(user, 'oauthbearer', tokens.access_token), { mechanism: 'OAUTHBEARER' });
  assert.ok(await fx.logHas(`user=<${user.name}>, method=XOAUTH2`), 'Dovecot logged no XOAUTH2 login');
  assert.ok(await fx.logHas(`user=<${user.name}>, method=OAUTHBEARER`), 'Dovecot logged no OAUTHBEARER login');
  // Dovecot asks the provider: a token it did not issue, or one for another user, is refused.
  const forged = await fx.oauthLogin(user, 'xoauth2', `x${tokens.access_token}`);
  assert.match(forged.refused ?? '', /AuthFailed/);
  const other = await fx.newUser();
  const stolen = await fx.oauthLogin(other, 'oauthbearer', tokens.access_token);
  assert.match(stolen.refused ?? '', /AuthFailed/);
  // The client never writes a token where Dovecot logs it.
  assert.equal(await fx.logHas(tokens.access_token), false);
});

test('a revoked grant refuses its access token and its refresh token', async () => {
  // user1 again: a second sign-in is a second grant of its own.
  const user = { name: 'user1' };
  const tokens = await signIn(user, provider.client_id);
  assert.deepEqual(await fx.oauthLogin(user, 'oauthbearer', tokens.access_token), { mechanism: 'OAUTHBEARER' });
  const revoked = await post('/token/revocation', {
    token: tokens.refresh_token,
    token_type_hint: 'refresh_token',
    client_id: provider.client_id,
  });
  assert.equal(revoked.status, 200);
  const refused = await fx.oauthLogin(user, 'oauthbearer', tokens.access_token);
  assert.match(refused.refused ?? '', /AuthFailed/);
  const refresh = await post('/token', {
    grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token,
    client_id: provider.client_id,
  });
  assert.equal(refresh.status, 400);
  assert.equal(refresh.body.error, 'invalid_grant');
});
