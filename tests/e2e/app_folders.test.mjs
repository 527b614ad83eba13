// Local folders and rules end to end: real Chromium (a persistent profile, for the offline
// cold start), the real proxy and a real Dovecot. A folder of the user's and a rule on List-Id
// made in the app file list mail at download; multi-select moves (Archive, Delete to Trash,
// Restore), drag and drop onto a folder, the reader's Delete to Trash; a reload and an offline
// cold start keep every message where it was and the folder shown; nothing touches the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { setupAccount, sync, storedSummaries } from './app_support.mjs';
import { waitForWorker } from './pwa_support.mjs';

const profile = mkdtempSync(join(tmpdir(), 'postbag-folders-profile-'));
const launch = () =>
  chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });

let fx;
before(async () => {
  fx = await startFixture();
});
after(async () => {
  await fx?.close();
});

/** The folder tab named `name` (its label; a count may follow). */
const tab = (page, name) => page.locator('.folders .folder').filter({ hasText: new RegExp(`^${name}`) });

/** Shows folder `name` and waits until the list holds `n` messages. */
async function expectIn(page, name, n) {
  await tab(page, name).click();
  await page.waitForFunction(
    (n) => (document.querySelector('.msg-count')?.textContent ?? '').startsWith(`${n} message`),
    n,
    { timeout: 10000 },
  );
}

/** `subject → folder` of every stored message (the user's folder shown by its name). */
async function placement(page, names) {
  const all = await storedSummaries(page);
  return Object.fromEntries(all.map((s) => [s.subject, names[s.folder] ?? s.folder]).sort());
}

const toolbar = (page) => page.getByRole('toolbar', { name: 'Folder actions' });

test('folders and a List-Id rule: filed at download, moved, restored, kept offline', async () => {
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 4);
  let context = await launch();
  let page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(fx.appUrl);
  await waitForWorker(page);
  await setupAccount(page, fx, user, { policy: 'leave', test: false });
  assert.match(await sync(page), /4 new messages/);

  // A folder of the user's, and a rule that files the team list there.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByRole('textbox', { name: 'Folder name' }).fill('Lists');
  await page.getByRole('button', { name: 'Create' }).click();
  await tab(page, 'Lists').and(page.locator('.current')).waitFor();
  await page.getByRole('button', { name: 'Settings' }).click();
  const rules = page.getByRole('region', { name: 'Folders and rules' });
  await rules.getByRole('button', { name: 'Add a rule' }).click();
  await rules.locator('#rule-field').selectOption('list-id');
  await rules.locator('#rule-value').fill('team.lists.example.org');
  await rules.locator('#rule-move').selectOption({ label: 'Lists' });
  await rules.getByLabel('Mark read').check();
  await rules.getByRole('button', { name: 'Save rule' }).click();
  await rules.getByText('If mailing list (list-id) contains "team.lists.example.org": move to Lists, mark read').waitFor();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();

  await fx.deliver(user, 'list', 2);
  assert.match(await sync(page), /2 new messages/);
  await expectIn(page, 'Lists', 2);
  await expectIn(page, 'Inbox', 4);
  const folderId = (await storedSummaries(page)).find((s) => s.subject.startsWith('Team digest')).folder;
  const names = { [folderId]: 'Lists' };
  const listMail = (await storedSummaries(page)).filter((s) => s.subject.startsWith('Team digest'));
  assert.deepEqual(listMail.map((s) => [s.folder, s.read]), [[folderId, true], [folderId, true]], 'filed and read at download');

  // Multi-select in Inbox: one tick, then shift-click two rows further: three ticked.
  const rows = page.locator('.msg-row');
  await rows.nth(0).locator('.tick').click();
  await rows.nth(2).locator('.tick').click({ modifiers: ['Shift'] });
  await toolbar(page).getByText('3 selected').waitFor();
  await toolbar(page).getByRole('button', { name: 'Archive' }).click();
  await expectIn(page, 'Inbox', 1);
  await expectIn(page, 'Archive', 3);

  // Delete (to Trash) from Archive, then Restore from Trash (to Inbox).
  await rows.nth(0).locator('.tick').click();
  await toolbar(page).getByRole('button', { name: 'Delete' }).click();
  await expectIn(page, 'Archive', 2);
  await expectIn(page, 'Trash', 1);
  await rows.nth(0).locator('.tick').click();
  await toolbar(page).getByRole('button', { name: 'Restore' }).click();
  await expectIn(page, 'Trash', 0);
  await expectIn(page, 'Inbox', 2);

  // Drag a row onto a folder.
  await rows.nth(0).dragTo(tab(page, 'Lists'));
  await expectIn(page, 'Inbox', 1);
  await expectIn(page, 'Lists', 3);
  // A drag that ended elsewhere (released over the list, or Esc) is over: text dropped on
  // Trash later moves nothing (it moved the old drag's rows before).
  const placed = await placement(page, names);
  await page.evaluate(() => {
    const row = document.querySelector('[role=option][draggable=true]');
    const drag = new DataTransfer();
    row.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: drag }));
    row.dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: drag }));
    const text = new DataTransfer();
    text.setData('text/plain', 'some text');
    const trash = document.querySelector('[data-folder=trash]');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      trash.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: text }));
    }
  });
  await page.waitForTimeout(300);
  assert.deepEqual(await placement(page, names), placed, 'a stale drag moved mail');

  // The reader's Delete files the message in Trash, restorable.
  await expectIn(page, 'Inbox', 1);
  await rows.nth(0).click();
  await page.getByRole('article', { name: 'Message' }).getByRole('button', { name: 'Delete' }).click();
  await expectIn(page, 'Inbox', 0);
  await expectIn(page, 'Trash', 1);
  assert.equal((await storedSummaries(page)).length, 6, 'nothing deleted yet');

  // Reload: every message where it was, and the folder shown too.
  await expectIn(page, 'Lists', 3);
  const before = await placement(page, names);
  await page.reload();
  await tab(page, 'Lists').and(page.locator('.current')).waitFor();
  await page.waitForFunction(() => (document.querySelector('.msg-count')?.textContent ?? '').startsWith('3 messages'));
  assert.deepEqual(await placement(page, names), before);
  assert.deepEqual(errors, []);
  await context.close();

  // Offline cold start: a new browser process, no proxy, no network.
  await fx.stopProxy();
  context = await launch();
  await context.setOffline(true);
  try {
    page = context.pages()[0] ?? (await context.newPage());
    const response = await page.goto(fx.appUrl);
    assert.ok(response.fromServiceWorker(), 'the shell came from the service worker');
    await tab(page, 'Lists').and(page.locator('.current')).waitFor({ timeout: 20000 });
    await page.waitForFunction(() => (document.querySelector('.msg-count')?.textContent ?? '').startsWith('3 messages'));
    assert.deepEqual(await placement(page, names), before);
    const counts = {};
    for (const [name, n] of [['Inbox', 0], ['Archive', 2], ['Trash', 1], ['Lists', 3]]) {
      await expectIn(page, name, n);
      counts[name] = n;
    }
    // Empty Trash: deleted here for good; this account leaves mail on the server.
    await expectIn(page, 'Trash', 1);
    // It asks first, with the count; Cancel keeps Trash as it was.
    await toolbar(page).getByRole('button', { name: 'Empty Trash' }).click();
    const ask = page.getByRole('alertdialog', { name: 'Empty Trash' });
    await ask.getByText('Delete 1 message in Trash for good? This cannot be undone.').waitFor();
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    await expectIn(page, 'Trash', 1);
    assert.equal((await storedSummaries(page)).length, 6, 'nothing deleted before the answer');
    await toolbar(page).getByRole('button', { name: 'Empty Trash' }).click();
    await ask.getByRole('button', { name: 'Delete forever' }).click();
    await expectIn(page, 'Trash', 0);
    assert.equal((await storedSummaries(page)).length, 5);
  } finally {
    await context.close();
    await fx.startProxy();
  }
  assert.equal(await fx.count(user), 6, 'folders never touch the server');
});
