// Hostile mail in the real reader (issue 11, items 7-10b): the real app, proxy, Dovecot and
// Chromium. Each message carries one attack; each check would fail without its defence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';
import { setupAccount, sync } from './app_support.mjs';

const env = fixtureAndBrowser();

/** A page with an account whose mailbox holds `kinds`, synced; records CSP reports. */
async function syncedPage(kinds) {
  const user = await env.fx.newUser();
  for (const kind of kinds) await env.fx.deliver(user, kind, 1);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const csp = [];
  // Violations of the page's own policy, as the page sees them, and as Chromium logs them.
  await page.addInitScript(() => {
    if (window.top !== window) return;
    window.__cspReports = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspReports.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) csp.push(m.text());
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  await page.goto(env.fx.appUrl);
  // The connection test is app_mail's subject; here only the mail matters.
  await setupAccount(page, env.fx, user, { policy: 'delete', test: false });
  const text = await sync(page);
  assert.match(text, new RegExp(`${kinds.length} new message`), text);
  return { context, page, csp, requests };
}

async function open(page, subject) {
  await page.getByRole('listbox', { name: 'Messages' }).getByRole('option').filter({ hasText: subject }).click();
  await page.getByRole('article', { name: 'Message' }).getByRole('heading', { name: subject }).waitFor();
}

test('mail HTML is never parsed against the page: no CSP report from opening handler-laden mail', async () => {
  const { context, page, csp } = await syncedPage(['html', 'cid-inject']);
  await open(page, 'Big sale, open now');
  const frame = page.frameLocator('iframe[title="Message body"]');
  await frame.getByText('Sale starts today').waitFor();
  await open(page, 'cid attribute injection');
  await frame.getByText('Injected logo:').waitFor();
  await page.waitForTimeout(500);
  const pageReports = await page.evaluate(() => window.__cspReports);
  assert.deepEqual(pageReports, [], 'the page saw no violation of its policy');
  const scriptReports = csp.filter((t) => /script-src|inline event handler/i.test(t));
  assert.deepEqual(scriptReports, [], 'Chromium logged no script-policy violation');
  // The parser frame is the app's own document, served with a sandbox-only policy.
  const parser = page.locator('iframe#pb-parser');
  assert.equal(await parser.getAttribute('sandbox'), 'allow-same-origin');
  const served = await page.request.get(new URL('parse.html', env.fx.appUrl).href);
  assert.equal(served.headers()['content-security-policy'], "sandbox allow-same-origin; frame-ancestors 'self'");
  await context.close();
});

test('cid: is resolved inside the sanitiser: a crafted Content-ID cannot reopen the attribute', async () => {
  const { context, page } = await syncedPage(['cid-inject']);
  await open(page, 'cid attribute injection');
  const frame = page.frameLocator('iframe[title="Message body"]');
  await frame.getByText('Injected logo:').waitFor();
  // No element of the frame's document carries an event handler attribute.
  const handlers = await frame.locator('body').evaluate((body) =>
    [...body.ownerDocument.querySelectorAll('*')].flatMap((el) =>
      [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${el.tagName} ${a.name}`)));
  assert.deepEqual(handlers, []);
  const img = frame.locator('img');
  assert.equal(await img.count(), 1);
  // `cid:Q` names no part (the part's Content-ID is `Q" alt=`): no src at all, the alt intact.
  assert.equal(await img.getAttribute('src'), null);
  assert.match(await img.getAttribute('alt'), /onerror=/);
  assert.notEqual(await page.title(), 'PWNED');
  await context.close();
});

test('cid: amplification is bounded: one 1 MB image referenced 2,000 times', async () => {
  const { context, page } = await syncedPage(['cid-amplify:2000']);
  await open(page, 'cid amplification');
  const reader = page.getByRole('article', { name: 'Message' });
  await reader.getByText('Some inline images are not shown').waitFor({ timeout: 30000 });
  const srcdoc = await page.locator('iframe[title="Message body"]').getAttribute('srcdoc');
  // Naively: 2,000 x 1.4 MB = 2.8 GB. The budget is 16 MiB of data: URLs.
  assert.ok(srcdoc.length < 20 * 1024 * 1024, `document of ${srcdoc.length} characters`);
  assert.ok(srcdoc.includes('data:image/png;base64,'), 'the first copies are shown');
  // The image stays reachable: offered for saving.
  await reader.getByRole('button', { name: /^Save big@x/ }).waitFor();
  await context.close();
});

test('every part is reachable: a second text part in another charset is shown', async () => {
  const { context, page } = await syncedPage(['two-charsets']);
  await open(page, 'Two charsets');
  const reader = page.getByRole('article', { name: 'Message' });
  await reader.getByText('The visible part, café.').waitFor();
  await reader.getByText('The hidden part, été in Latin-1.').waitFor();
  await context.close();
});

test('the remote-content offer appears for every kind of remote reference', async () => {
  const kinds = ['srcset', 'poster', 'link', 'background', 'style'];
  const { context, page, requests } = await syncedPage(kinds.map((k) => `remote:${k}`));
  const reader = page.getByRole('article', { name: 'Message' });
  for (const kind of kinds) {
    await open(page, `Remote by ${kind}`);
    await page.frameLocator('iframe[title="Message body"]').getByText(`Only remote: ${kind}.`).waitFor();
    await reader.getByRole('button', { name: 'Load remote content' }).waitFor({ timeout: 5000 });
  }
  // Consent takes effect for a srcset too.
  await open(page, 'Remote by srcset');
  await page.frameLocator('iframe[title="Message body"]').getByText('Only remote: srcset.').waitFor();
  const before = requests.filter((u) => u.includes('srcset.png')).length;
  await reader.getByRole('button', { name: 'Load remote content' }).click();
  for (let i = 0; i < 50 && requests.filter((u) => u.includes('srcset.png')).length === before; i++) {
    await page.waitForTimeout(100);
  }
  assert.ok(requests.filter((u) => u.includes('srcset.png')).length > before, 'the srcset image was requested after consent');
  await context.close();
});
