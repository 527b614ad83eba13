// Backup and restore (issue 13, part 3): Dovecot → sync (the password remembered under a
// passphrase, one message read) → "Back up everything" in Settings (a Playwright download:
// the test removes `showSaveFilePicker`, which headless Chromium cannot answer) → a NEW browser
// context (a fresh profile, empty storage) → "Restore from a backup…" on its setup screen: a
// wrong passphrase is refused with nothing written, the right one restores → the passphrase
// unlocks the restored password (a wrong one is refused) → Sync downloads nothing (the ledger
// came back; the app's report and Dovecot's log say so), deletes nothing (Dovecot still holds
// every message), and the mail reads offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureAndBrowser } from './fixture.mjs';
import { fillAccountForm, storedSummaries, sync } from './app_support.mjs';

const env = fixtureAndBrowser();
const PASSPHRASE = 'correct horse battery';

/** A page of a fresh context (its own storage) without the save picker. */
async function freshPage() {
  const context = await env.browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.addInitScript(() => { delete window.showSaveFilePicker; });
  await page.goto(env.fx.appUrl);
  return { context, page };
}

/** Every record count of the app's database, by store (an empty profile has none). */
function storeCounts(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('postbag');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const names = [...db.objectStoreNames];
      const tx = db.transaction(names);
      const counts = {};
      for (const name of names) {
        const req = tx.objectStore(name).count();
        req.onsuccess = () => { counts[name] = req.result; };
      }
      tx.oncomplete = () => { db.close(); resolve(counts); };
      tx.onerror = () => reject(tx.error);
    };
  }));
}

/** Picks `path` in the "Restore from a backup…" file input, after typing `passphrase`. */
async function restoreFrom(page, path, passphrase) {
  await page.getByLabel('Passphrase of the remembered password').fill(passphrase);
  await page.getByLabel('Restore from a backup…').setInputFiles(path);
}

test('a backup restored into a new profile downloads nothing again and deletes nothing', async () => {
  const user = await env.fx.newUser();
  await env.fx.deliver(user, 'plain', 3);
  await env.fx.deliver(user, 'eightbit', 1);
  const old = await freshPage();
  // Leave on the server: a sync after the restore would find every message still listed, so
  // only the restored ledger keeps it from downloading them again.
  await fillAccountForm(old.page, env.fx, user, { policy: 'leave' });
  await old.page.getByLabel('Remember the password on this device').check();
  await old.page.getByLabel('Passphrase to encrypt the password').fill(PASSPHRASE);
  const checks = old.page.getByLabel('Check for new mail every (minutes)');
  if (await checks.count()) await checks.fill(''); // only on Sync: this test counts syncs
  await old.page.getByRole('button', { name: 'Save account' }).click();
  assert.match(await sync(old.page), /^4 new messages/);
  // One message read: its mark must come back.
  await old.page.getByRole('listbox', { name: 'Messages' }).getByRole('option').filter({ hasText: 'Message number 1' }).first().click();
  await old.page.getByRole('article', { name: 'Message' }).getByText('Hello, this is message 1.').waitFor();
  const before = (await storedSummaries(old.page)).sort((a, b) => a.uidl.localeCompare(b.uidl));
  assert.equal(before.filter((s) => s.read).length, 1);

  await old.page.getByRole('button', { name: 'Settings' }).click();
  await old.page.getByText('No backup or export from this browser yet.').waitFor();
  const [download] = await Promise.all([
    old.page.waitForEvent('download', { timeout: 60000 }),
    old.page.getByRole('button', { name: 'Back up everything' }).click(),
  ]);
  const name = download.suggestedFilename();
  assert.match(name, /^postbag-backup-\d{4}-\d\d-\d\d\.postbag$/);
  const path = join(mkdtempSync(join(tmpdir(), 'postbag-backup-')), name);
  await download.saveAs(path);
  const status = old.page.getByRole('status', { name: 'Backup status' });
  await status.getByText(new RegExp(`^Backed up 4 messages \\(\\d+ records, [\\d.]+ MB\\) to ${name.replace(/\./g, '\\.')}\\.$`)).waitFor();
  await old.page.getByText(/^Last backup or export: /).waitFor();
  const file = readFileSync(path);
  assert.equal(file.subarray(0, 8).toString(), 'PBBACKUP');
  assert.ok(!file.includes(Buffer.from(user.password)), 'the password is not in the file in clear');
  assert.ok(!file.includes(Buffer.from(PASSPHRASE)), 'nor the passphrase');
  await old.context.close();
  assert.equal(await env.fx.logHas('retr=0/0, del=0/4'), false, 'the first sync downloaded all 4');

  // A new profile: empty, so its setup screen offers the restore.
  const fresh = await freshPage();
  const { page } = fresh;
  await page.getByRole('region', { name: 'Restore' }).waitFor();
  await restoreFrom(page, path, 'not the passphrase');
  const restoreStatus = page.getByRole('status', { name: 'Backup status' });
  await restoreStatus.getByText(`Restore refused: the passphrase does not open the password remembered for ${user.name}@example.org. Nothing in this browser was changed.`).waitFor({ timeout: 30000 });
  const untouched = await storeCounts(page);
  assert.ok(Object.values(untouched).every((n) => n === 0), JSON.stringify(untouched));

  await restoreFrom(page, path, PASSPHRASE);
  await restoreStatus.getByText(/^Restored 4 messages and 1 account from the backup of \d{4}-\d\d-\d\d\. A sync downloads nothing that is already here\. The passphrase opens the remembered password\.$/).waitFor({ timeout: 30000 });
  await page.getByRole('button', { name: 'Open the restored mail' }).click();
  await page.getByRole('button', { name: 'Sync' }).waitFor();
  const after = (await storedSummaries(page)).sort((a, b) => a.uidl.localeCompare(b.uidl));
  assert.deepEqual(after, before, 'every summary, read mark included');

  // The restored password is sealed as it was: a wrong passphrase is refused, the right opens it.
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.getByLabel('Passphrase to unlock the saved password').fill('wrong passphrase');
  await page.getByRole('button', { name: 'Unlock and sync' }).click();
  await page.getByText('wrong passphrase, or the stored password is damaged').waitFor({ timeout: 20000 });
  await page.getByLabel('Passphrase to unlock the saved password').fill(PASSPHRASE);
  const runs = Number(await page.locator('.status').getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Unlock and sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, runs, { timeout: 30000 });
  const report = await page.getByRole('status', { name: 'Sync status' }).locator('.banner.ok').first().textContent();
  assert.match(report.trim(), /^No new messages/, 'nothing downloaded again');
  assert.deepEqual((await storedSummaries(page)).sort((a, b) => a.uidl.localeCompare(b.uidl)), before);
  assert.equal((await env.fx.raw(user)).length, 4, 'nothing deleted on the server');
  // Dovecot's own count of that session (its logout line; this file's only user): no RETR, no
  // DELE, of the 4 listed. The first sync's line says retr=4.
  assert.ok(await env.fx.logHas('retr=0/0, del=0/4'), "Dovecot's log shows a session with no RETR and no DELE");

  // Readable from the restored bytes.
  await page.getByRole('listbox', { name: 'Messages' }).getByRole('option').filter({ hasText: 'Grüße' }).first().click();
  await page.getByRole('article', { name: 'Message' }).getByText(/東京の天気は晴れです/).waitFor();

  // Restoring again into this browser, which now holds mail, is refused and changes nothing.
  const held = await storedSummaries(page);
  await page.getByRole('button', { name: 'Settings' }).click();
  await restoreFrom(page, path, '');
  await page.getByRole('status', { name: 'Backup status' })
    .getByText(/^Restore refused: this browser already holds Postbag data \(\d+ records\)/).waitFor({ timeout: 30000 });
  assert.deepEqual(await storedSummaries(page), held);
  await fresh.context.close();
});
