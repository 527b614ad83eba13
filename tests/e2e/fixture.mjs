// The end-to-end fixture for Playwright tests: a real Dovecot, a real Postfix in front of it
// (SMTP submission into the same mailboxes) and the real proxy serving dist/,
// run by the Rust binary `fixture` (tests/src/bin/fixture.rs), plus a Chromium launcher.
//
//   const fx = await startFixture();
//   const user = await fx.newUser();            // { name, password, address }: address receives
//                                               //   mail submitted to Postfix (SMTP AUTH with name, password)
//   await fx.deliver(user, 'plain', 5);         // kinds: plain list thread html multipart cid dots eightbit from-lines large:BYTES
//                                               //   sized:BYTES cid-inject cid-amplify:COPIES two-charsets
//                                               //   remote:srcset/poster/link/background/style
//   await fx.count(user);                       // messages on the server
//   await fx.raw(user);                         // [{ uidl, base64 }]: what Dovecot serves by RETR
//   fx.submissionPort, fx.submissionsPort       // Postfix: STARTTLS (587 role), implicit TLS (465 role)
//   fx.refusedRecipient, fx.sizeLimit           // always refused (550 5.1.1); SIZE limit in bytes (552)
//   await fx.stopProxy(); await fx.startProxy();
//   startFixture({ oauthIntrospection: url })    // Dovecot also takes OAuth tokens checked there
//   await fx.oauthLogin(user, 'xoauth2', token) // { mechanism } or { refused }: POP3S login by the
//                                               //   protocol crate's client with the token
//   await fx.logHas('method=XOAUTH2')           // whether Dovecot's log contains the text
//   await fx.logCount(`Login: user=<${user.name}>`) // how many times it does
//   await fx.close();

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where screenshots go: docs/screenshots when POSTBAG_SCREENSHOTS is set (refreshing the
 * documentation's copies on purpose), else a temporary directory, so that a test run leaves
 * the working tree clean. */
export function screenshotDir() {
  const dir = process.env.POSTBAG_SCREENSHOTS
    ? join(ROOT, 'docs', 'screenshots')
    : mkdtempSync(join(tmpdir(), 'postbag-shots-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * For a test file: starts the fixture and a browser before its tests and stops both after.
 * Returns an object whose `fx` and `browser` are set once `before` has run.
 */
export function fixtureAndBrowser(options) {
  const env = {};
  before(async () => {
    env.fx = await startFixture(options);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.fx?.close();
  });
  return env;
}

/** Chromium flags that keep a headless browser quiet on a machine with no internet. */
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-quic', '--no-first-run',
];

export const CHROMIUM_PATH = process.env.CHROMIUM || '/usr/bin/chromium';

/** A fresh headless Chromium (incognito-like contexts). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A persistent profile (needed for installability checks and service workers across reloads). */
export function launchPersistent(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'postbag-profile-'));
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, ...options,
  });
}

/**
 * `untrusted: true` starts a proxy that does not trust the test CA (a self-signed server);
 * `token: 'code'` one that wants that access token from every tunnel (a private deployment);
 * `oauthIntrospection: url` a Dovecot that also takes OAuth tokens (tests/oidc/provider.mjs);
 * `oauthClients: [...]` the proxy's `oauth_clients`; `proxyPort: n` the proxy's port (the app's
 * OAuth redirect URI names it, so a provider started first can know it).
 */
export async function startFixture({ dist = process.env.POSTBAG_DIST || join(ROOT, 'dist'), untrusted = false, token, oauthIntrospection, oauthClients, proxyPort } = {}) {
  // POSTBAG_FIXTURE_BIN: a release build for the benches (the proxy inside is the fixture's).
  const bin = process.env.POSTBAG_FIXTURE_BIN || join(ROOT, 'target', 'debug', 'fixture');
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: run \`cargo build -p postbag-tests --bin fixture\` (./test.sh does)`);
  }
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html is missing: run \`trunk build --release\` (./test.sh does)`);
  }
  const env = { ...process.env };
  if (untrusted) env.POSTBAG_FIXTURE_UNTRUSTED = '1';
  if (token !== undefined) env.POSTBAG_FIXTURE_TOKEN = token;
  else delete env.POSTBAG_FIXTURE_TOKEN;
  if (oauthIntrospection !== undefined) env.POSTBAG_FIXTURE_OAUTH_INTROSPECTION = oauthIntrospection;
  else delete env.POSTBAG_FIXTURE_OAUTH_INTROSPECTION;
  if (oauthClients !== undefined) env.POSTBAG_FIXTURE_OAUTH_CLIENTS = JSON.stringify(oauthClients);
  else delete env.POSTBAG_FIXTURE_OAUTH_CLIENTS;
  if (proxyPort !== undefined) env.POSTBAG_FIXTURE_PROXY_PORT = String(proxyPort);
  else delete env.POSTBAG_FIXTURE_PROXY_PORT;
  const child = spawn(bin, [dist], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next.resolve(JSON.parse(line));
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`fixture exited (${code})`));
  });
  const answer = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ask = async (command) => {
    const reply = answer();
    child.stdin.write(command + '\n');
    const value = await reply;
    if (value.error) throw new Error(`fixture: ${value.error}`);
    return value;
  };

  const info = await answer();
  return {
    appUrl: info.app_url,
    proxyPort: info.proxy_port,
    pop3Port: info.pop3_port,
    pop3sPort: info.pop3s_port,
    scriptedPort: info.scripted_port,
    submissionPort: info.submission_port,
    submissionsPort: info.submissions_port,
    refusedRecipient: info.refused_recipient,
    sizeLimit: info.size_limit,
    caPem: info.ca_pem,
    serverCertSha256: info.server_cert_sha256,
    newUser: () => ask('new-user'),
    deliver: (user, kind, n = 1) => ask(`deliver ${user.name} ${kind} ${n}`),
    count: async (user) => (await ask(`count ${user.name}`)).count,
    raw: async (user) => (await ask(`raw ${user.name}`)).messages,
    oauthLogin: (user, mechanism, accessToken) => ask(`oauth-login ${user.name} ${mechanism} ${accessToken}`),
    logHas: async (text) => (await ask(`log-has ${text}`)).found,
    logCount: async (text) => (await ask(`log-count ${text}`)).count,
    stopProxy: () => ask('proxy-stop'),
    startProxy: () => ask('proxy-start'),
    close: async () => {
      child.stdin.end();
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
    },
  };
}
