// No silent risk (issue 13, item 5): with delete-after-download, storage the browser may clear
// and no recent export, the mailbox says the mail is at risk and offers a fix for each cause;
// each fix (durable storage, an export) ends the warning, and Settings shows the last export.
// The browser's answer about durability is stubbed: headless Chromium decides it by heuristics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';

const env = fixtureAndBrowser();

/** A page whose storage is not durable until `persist()` is called (and then granted if
 * `grant`), with the download fallback for exports. */
async function pageWithStorage({ grant }) {
  const context = await env.browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.addInitScript((grant) => {
    delete window.showSaveFilePicker;
    let persisted = false;
    navigator.storage.persisted = async () => persisted;
    navigator.storage.persist = async () => { persisted = grant; return grant; };
  }, grant);
  await page.goto(env.fx.appUrl);
  return { context, page };
}

const warning = (page) => page.getByRole('alert', { name: 'Your mail is at risk' });

test('the only copy in storage the browser may clear is warned about; durable storage ends it', async () => {
  const { context, page } = await pageWithStorage({ grant: true });
  await setupAccount(page, env.fx, await env.fx.newUser(), { policy: 'delete', test: false });
  await warning(page).waitFor();
  assert.match(await warning(page).innerText(), /only in this browser/);
  await warning(page).getByRole('button', { name: 'Keep mail durable' }).click();
  await warning(page).waitFor({ state: 'detached' });
  await page.reload();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  // The stub forgets the grant on reload: the warning is back, as it would be.
  await warning(page).waitFor();
  await context.close();
});

test('an export ends the warning, and Settings says when it was made', async () => {
  const { context, page } = await pageWithStorage({ grant: false });
  await setupAccount(page, env.fx, await env.fx.newUser(), { policy: 'delete', test: false });
  await warning(page).waitFor();
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByText('No backup or export from this browser yet.').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();

  // Refused durability leaves the warning up; an export is the other way out.
  await warning(page).getByRole('button', { name: 'Keep mail durable' }).click();
  await page.waitForTimeout(500);
  assert.ok(await warning(page).isVisible(), 'still at risk when the browser refuses');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    warning(page).getByRole('button', { name: 'Export all mail now' }).click(),
  ]);
  await download.path();
  await warning(page).waitFor({ state: 'detached' });
  await page.reload();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  assert.equal(await warning(page).count(), 0, 'the export is remembered across a reload');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByText(/^Last backup or export: /).waitFor();
  await context.close();
});

test('"Not now" puts the warning away for the session only', async () => {
  const { context, page } = await pageWithStorage({ grant: false });
  await setupAccount(page, env.fx, await env.fx.newUser(), { policy: 'delete', test: false });
  await warning(page).getByRole('button', { name: 'Not now' }).click();
  await warning(page).waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  assert.equal(await warning(page).count(), 0, 'still away after Settings');
  await page.reload();
  await warning(page).waitFor();
  await context.close();
});

test('mail kept on the server is not warned about', async () => {
  const { context, page } = await pageWithStorage({ grant: false });
  await setupAccount(page, env.fx, await env.fx.newUser(), { policy: 'leave', test: false });
  await page.waitForTimeout(500);
  assert.equal(await warning(page).count(), 0);
  await context.close();
});

test('a new account deletes after download by default only where storage is durable', async () => {
  for (const [durable, expected] of [[false, 'leave'], [true, 'delete']]) {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.addInitScript((durable) => { navigator.storage.persisted = async () => durable; }, durable);
    await page.goto(env.fx.appUrl);
    const policy = page.getByLabel('After download');
    await page.waitForFunction((want) => document.querySelector('#f-policy')?.value === want, expected);
    assert.equal(await policy.inputValue(), expected, `durable: ${durable}`);
    const hint = page.getByRole('note', { name: 'Only copy' });
    assert.equal(await hint.count(), 0, 'no warning while mail stays on the server');
    await policy.selectOption('delete');
    if (durable) assert.equal(await hint.count(), 0);
    else await hint.waitFor();
    await context.close();
  }
});
