// The accessibility audit: axe-core (injected from node_modules) run on every screen of the
// app, at desktop and phone sizes, against a real Dovecot and the real proxy. Any serious or
// critical violation fails the test, named with the elements it was found on.
// Run: node --test tests/e2e/app_a11y.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startFixture, launchBrowser } from './fixture.mjs';
import { setupAccount, sync } from './app_support.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let fx, browser;
before(async () => {
  fx = await startFixture();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

/** Known and not fixed yet: a message row (role option) is named by its aria-label (sender,
 * subject, unread, account), shorter than its visible text (date, size, snippet), which axe's
 * label-content-name-mismatch asks to contain. Naming rows by their content instead changes what
 * screen readers announce and what other tests read; left for a follow-up. Nothing else is
 * excused, on any element. */
const KNOWN = [{ rule: 'label-content-name-mismatch', target: /^(\.msg-row|\.selected|div\[aria-posinset=)/ }];

/** axe's serious and critical violations on the page as it is now, as readable lines. */
async function audit(page, screen) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: AXE });
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  const excused = (id, target) => KNOWN.some((k) => k.rule === id && k.target.test(target));
  return violations
    .map((v) => ({ ...v, targets: v.targets.filter((t) => !excused(v.id, t)) }))
    .filter((v) => v.targets.length > 0)
    .map((v) => `${screen}: ${v.id} (${v.impact}): ${v.help}; on ${v.targets.slice(0, 4).join(' | ')}`);
}

for (const [size, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
  test(`no serious or critical axe violation on any screen (${size})`, async () => {
    const found = [];
    const user = await fx.newUser();
    await fx.deliver(user, 'thread', 3);
    await fx.deliver(user, 'multipart', 1);
    await fx.deliver(user, 'plain', 2);
    // axe is injected as a script: the app's CSP (which it does not change) would refuse it.
    const context = await browser.newContext({ viewport, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(fx.appUrl);
    await page.getByLabel('Email address').waitFor();
    found.push(...await audit(page, 'setup'));

    await setupAccount(page, fx, user, { policy: 'leave', test: false });
    assert.match(await sync(page), /6 new messages/);
    found.push(...await audit(page, 'mailbox'));

    const rows = page.getByRole('listbox', { name: 'Messages' }).getByRole('option');
    await rows.filter({ hasText: 'Plans for the trip' }).click();
    await page.getByRole('article', { name: 'Message' }).getByText('Trip message 2').waitFor();
    await page.locator('details.thread-item summary').first().click();
    found.push(...await audit(page, 'reader, a conversation'));
    // On a phone the reader covers the list: back to it first.
    const back = page.getByRole('button', { name: 'Back' });
    if (await back.isVisible()) await back.click();
    await rows.filter({ hasText: 'Quarterly report' }).click();
    await page.getByRole('article', { name: 'Message' }).getByText('See the forwarded message').waitFor();
    found.push(...await audit(page, 'reader, attachments and a forward'));

    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    found.push(...await audit(page, 'shortcuts dialog'));
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'New message' }).click();
    const compose = page.getByRole('form', { name: 'New message' });
    await compose.waitFor();
    found.push(...await audit(page, 'compose'));
    await compose.getByRole('button', { name: 'Close' }).click();

    for (const tab of ['Drafts', 'Outbox', 'Sent']) {
      const t = page.getByRole('tab', { name: new RegExp(`^${tab}`) });
      if (await t.count()) {
        await t.first().click();
        found.push(...await audit(page, `${tab} folder`));
      }
    }

    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Cancel' }).first().waitFor();
    found.push(...await audit(page, 'settings'));
    await page.getByRole('button', { name: 'Cancel' }).first().click();

    await page.getByRole('button', { name: 'Accounts' }).click();
    await page.getByRole('list', { name: 'Accounts' }).waitFor();
    found.push(...await audit(page, 'accounts'));

    await context.close();
    assert.deepEqual(found, [], `axe found:\n${found.join('\n')}`);
  });
}
