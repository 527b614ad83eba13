// Export (issue 13, part 1): Dovecot → sync → "Export all mail (mbox)" in Settings (then one
// account, then a search result from the mailbox), as a download: headless Chromium cannot
// answer the File System Access picker, so the test removes `showSaveFilePicker` and the app
// streams the file through its service worker (a Blob download only without a worker, the last
// resort, tested too). Python's `mailbox.mbox` reads the file back; every message must equal,
// byte for byte, what Dovecot serves by RETR (the fixture reads it with its own few lines of
// POP3), `From ` body lines included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureAndBrowser } from './fixture.mjs';
import { setupAccount, sync } from './app_support.mjs';

const env = fixtureAndBrowser();

// Python's mbox reader splits at `From ` lines but does not undo mboxrd quoting: one `>` less
// on every line matching ^>+From . Prints each message (base64) and its separator line.
const READ_MBOX = `
import base64, json, mailbox, re, sys
box = mailbox.mbox(sys.argv[1], create=False)
out = []
for key in box.keys():
    raw = re.sub(rb'(?m)^>(>*From )', rb'\\1', box.get_bytes(key))
    out.append({'base64': base64.b64encode(raw).decode(), 'from': box.get_message(key).get_from()})
print(json.dumps(out))
`;

function readMbox(path) {
  return JSON.parse(execFileSync('python3', ['-c', READ_MBOX, path], { encoding: 'utf8' }));
}

/** Clicks an export button and saves the download; returns its name, path and URL. */
async function exportAs(page, button, dir) {
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60000 }),
    page.getByRole('button', { name: button }).click(),
  ]);
  const name = download.suggestedFilename();
  const path = join(dir, `${button.replace(/\W+/g, '-')}.mbox`);
  await download.saveAs(path);
  assert.equal(await download.failure(), null);
  return { name, path, url: download.url() };
}

// The URL of a download the service worker streams: 128 random bits.
const STREAMED = /\/__download\/[0-9a-f]{32}$/;

const KINDS = [['plain', 3], ['from-lines', 1], ['eightbit', 1], ['dots', 1], ['multipart', 1]];
const DELIVERED = KINDS.reduce((n, [, k]) => n + k, 0);

/** A page (without `showSaveFilePicker` unless `picker` replaces it) whose account holds
 * KINDS, delivered to Dovecot and synced; returns the page, its user and Dovecot's RETR bytes.
 * Unless `serviceWorkers` is 'block', the service worker controls the page by then. */
async function syncedPage(picker, { serviceWorkers = 'allow' } = {}) {
  const user = await env.fx.newUser();
  for (const [kind, n] of KINDS) await env.fx.deliver(user, kind, n);
  const context = await env.browser.newContext({ acceptDownloads: true, serviceWorkers });
  const page = await context.newPage();
  await page.addInitScript(picker ?? (() => { delete window.showSaveFilePicker; }));
  await page.goto(env.fx.appUrl);
  // Leave: Dovecot keeps the messages, so its RETR bytes can be read after the sync.
  await setupAccount(page, env.fx, user, { policy: 'leave' });
  const synced = await sync(page);
  assert.match(synced, new RegExp(`^${DELIVERED} new messages`), synced);
  const server = await env.fx.raw(user);
  assert.equal(server.length, DELIVERED);
  if (serviceWorkers === 'allow') await page.waitForFunction(() => navigator.serviceWorker.controller);
  return { context, page, user, server };
}

const sorted = (list) => list.map((m) => m.base64).sort();

test('export streams an mboxrd file through the service worker; its messages are the server\'s RETR bytes', async () => {
  const { context, page, user, server } = await syncedPage();
  assert.equal(await page.evaluate(() => 'showSaveFilePicker' in window), false, 'the download is what runs');

  await page.getByRole('button', { name: 'Settings' }).click();
  const dir = mkdtempSync(join(tmpdir(), 'postbag-export-'));
  const all = await exportAs(page, 'Export all mail (mbox)', dir);
  const status = page.getByRole('status', { name: 'Export status' });
  await status.getByText(`Exported ${DELIVERED} messages to ${all.name}.`).waitFor();
  assert.match(all.name, /^postbag-\d{4}-\d\d-\d\d\.mbox$/);
  assert.match(all.url, STREAMED, 'streamed by the service worker, not a Blob');

  // The file quotes `From ` lines the mboxrd way (one more `>` on ^>*From ).
  const file = readFileSync(all.path);
  for (const line of ['>From the desk of the editor:', '>>From a quoted reply', '>>>From a reply to a reply', '>From here on, every line matters.', '>From ']) {
    assert.ok(file.includes(Buffer.from(`\n${line}\r\n`)), `the file holds ${JSON.stringify(line)}`);
  }

  const exported = readMbox(all.path);
  assert.equal(exported.length, DELIVERED, 'Python reads as many messages as were delivered');
  assert.deepEqual(sorted(exported), sorted(server), 'each exported message is its RETR bytes');
  for (const m of exported) {
    // `From MAILER-DAEMON Www Mmm dd hh:mm:ss yyyy`, the summary's date.
    assert.match(m.from, /^MAILER-DAEMON (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/, m.from);
  }
  const bodies = exported.map((m) => Buffer.from(m.base64, 'base64'));
  const fromLines = bodies.find((b) => b.includes('Subject: Lines starting with From'));
  assert.ok(fromLines.includes(Buffer.from(
    '\r\n\r\nFrom the desk of the editor:\r\n>From a quoted reply\r\n>>From a reply to a reply\r\n'
    + 'From here on, every line matters.\r\nFrom:not a separator\r\n From with a leading space\r\n\r\nFrom \r\nend\r\n')),
  'the From lines survive the round trip');
  const eightBit = bodies.find((b) => b.includes('eightbit@example.de'));
  assert.ok(eightBit.includes(Buffer.from('Grüße aus Tōkyō: 東京の天気は晴れです。\r\n', 'utf8')), '8-bit bytes pass untouched');
  // The separator carries the message's date (the dots message says 05 Jan 2024 04:40:00 +0000).
  const dots = exported.find((m) => Buffer.from(m.base64, 'base64').includes('<dots@example.org>'));
  assert.equal(dots.from, 'MAILER-DAEMON Fri Jan  5 04:40:00 2024');

  // One account: the same messages (this browser has one), under the account's name.
  const one = await exportAs(page, 'Export this account (mbox)', dir);
  assert.match(one.name, new RegExp(`^postbag-${user.name}@example\\.org-\\d{4}-\\d\\d-\\d\\d\\.mbox$`));
  assert.deepEqual(readFileSync(one.path), file);
  assert.match(one.url, STREAMED);
  assert.notEqual(one.url, all.url, 'each download has its own URL');

  // A download's URL answers once; an unknown one never (the worker's 404, not the network's).
  const answers = await page.evaluate(async (urls) => Promise.all(urls.map(async (u) => {
    const r = await fetch(u);
    return `${r.status} ${await r.text()}`;
  })), [all.url, one.url, all.url.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), all.url.replace(/[0-9a-f]{32}$/, 'x')]);
  assert.deepEqual(answers, Array(4).fill('404 No such download.'));

  // A search result: only the messages the search shows.
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByLabel('Search mail').fill('Message number');
  const found = await exportAs(page, 'Export these messages (mbox)', dir);
  assert.match(found.name, /^postbag-selection-\d{4}-\d\d-\d\d\.mbox$/);
  assert.match(found.url, STREAMED);
  await page.getByRole('status', { name: 'Export status' }).getByText(`Exported 3 messages to ${found.name}.`).waitFor();
  const selection = readMbox(found.path);
  const plain = server.filter((m) => Buffer.from(m.base64, 'base64').includes('Subject: Message number'));
  assert.equal(plain.length, 3);
  assert.deepEqual(sorted(selection), sorted(plain));
  await context.close();
});

test('with a file picker, the export goes through the file\'s writable stream', async () => {
  // Headless Chromium cannot answer the real picker; this one answers with a file of the
  // origin's private file system, whose handle has the same createWritable() and stream.
  const { context, page, server } = await syncedPage(() => {
    window.showSaveFilePicker = async (options) => {
      window.__picked = options.suggestedName;
      const dir = await navigator.storage.getDirectory();
      return dir.getFileHandle('picked.mbox', { create: true });
    };
  });
  let downloads = 0;
  page.on('download', () => downloads++);
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Export all mail (mbox)' }).click();
  await page.getByRole('status', { name: 'Export status' })
    .getByText(`Exported ${DELIVERED} messages to picked.mbox.`).waitFor();
  assert.equal(downloads, 0, 'nothing went through the download fallback');
  assert.match(await page.evaluate(() => window.__picked), /^postbag-\d{4}-\d\d-\d\d\.mbox$/);
  const bytes = await page.evaluate(async () => {
    const dir = await navigator.storage.getDirectory();
    const file = await (await dir.getFileHandle('picked.mbox')).getFile();
    return [...new Uint8Array(await file.arrayBuffer())];
  });
  const path = join(mkdtempSync(join(tmpdir(), 'postbag-export-')), 'picked.mbox');
  writeFileSync(path, Buffer.from(bytes));
  const exported = readMbox(path);
  assert.equal(exported.length, DELIVERED);
  assert.deepEqual(sorted(exported), sorted(server), 'each message is its RETR bytes');
  await context.close();
});

test('progress and Cancel: "Exporting k of N", then the file is aborted, not closed', async () => {
  // Two messages of 5 MB: two batches. The stand-in file's first write waits for the test, so
  // Cancel is pressed while the export is known to be between its batches.
  const user = await env.fx.newUser();
  await env.fx.deliver(user, 'large:5000000', 2);
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__calls = [];
    window.showSaveFilePicker = async () => ({
      name: 'held.mbox',
      createWritable: async () => ({
        write: (chunk) => {
          window.__calls.push(`write ${chunk.byteLength}`);
          return new Promise((resolve) => { window.__release = resolve; });
        },
        close: async () => { window.__calls.push('close'); },
        abort: async () => { window.__calls.push('abort'); },
      }),
    });
  });
  await page.goto(env.fx.appUrl);
  await setupAccount(page, env.fx, user, { policy: 'leave' });
  assert.match(await sync(page), /^2 new messages/);
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Export all mail (mbox)' }).click();
  const status = page.getByRole('status', { name: 'Export status' });
  await status.getByText('Exporting 0 of 2').waitFor();
  await page.waitForFunction(() => window.__release);
  await status.getByRole('button', { name: 'Cancel export' }).click();
  await page.evaluate(() => window.__release());
  await status.getByText('Export cancelled: the file was not written.').waitFor();
  const calls = await page.evaluate(() => window.__calls);
  assert.equal(calls.length, 2, calls.join(', '));
  assert.match(calls[0], /^write 5\d{6}$/, 'one batch, one message');
  assert.equal(calls[1], 'abort', 'the file stream is aborted, never closed');
  await context.close();
});

test('without a service worker, the last resort: the file is offered whole as a Blob', async () => {
  const { context, page, server } = await syncedPage(undefined, { serviceWorkers: 'block' });
  assert.equal(await page.evaluate(() => navigator.serviceWorker.controller), null);
  await page.getByRole('button', { name: 'Settings' }).click();
  const dir = mkdtempSync(join(tmpdir(), 'postbag-export-'));
  const all = await exportAs(page, 'Export all mail (mbox)', dir);
  assert.match(all.url, /^blob:/);
  assert.deepEqual(sorted(readMbox(all.path)), sorted(server), 'each message is its RETR bytes');
  await context.close();
});

test('a streamed download: Cancel in the app fails it, cancelling it in the browser stops the export; a hostile account name', async () => {
  // Three messages of 3 MB: three batches. Each export's first chunk to the service worker is
  // held in the page until the test lets it go, so both cancels land in the middle of the file.
  const user = await env.fx.newUser();
  await env.fx.deliver(user, 'large:3000000', 3);
  const context = await env.browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.addInitScript(() => {
    delete window.showSaveFilePicker;
    const post = MessagePort.prototype.postMessage;
    let held = null;
    MessagePort.prototype.postMessage = function (message, transfer) {
      const send = () => post.call(this, message, transfer);
      if (held) return void held.push(send);
      if (message?.type === 'chunk' && window.__hold) {
        window.__hold = false;
        held = [send];
        window.__release = () => { const queue = held; held = null; queue.forEach((f) => f()); };
        return undefined;
      }
      return send();
    };
  });
  await page.goto(env.fx.appUrl);
  // The address is the account's id and names its export; the user name logs in.
  await page.getByLabel('Email address').fill('Jörg "x" ;%41@例え.jp');
  await page.getByLabel('Email address').press('Tab');
  await page.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Security', { exact: true }).selectOption('tls');
  await page.getByLabel('Port', { exact: true }).fill(String(env.fx.pop3sPort));
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password or app password').fill(user.password);
  await page.getByLabel('After download').selectOption('leave');
  await page.getByRole('button', { name: 'Save account' }).click();
  assert.match(await sync(page), /^3 new messages/);
  await page.waitForFunction(() => navigator.serviceWorker.controller);
  await page.getByRole('button', { name: 'Settings' }).click();
  const status = page.getByRole('status', { name: 'Export status' });

  const start = async () => {
    await page.evaluate(() => { window.__hold = true; window.__release = null; });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60000 }),
      page.getByRole('button', { name: 'Export this account (mbox)' }).click(),
    ]);
    await page.waitForFunction(() => window.__release);
    return download;
  };

  // Cancel in the app: the browser's download fails; no complete-looking file is left.
  const first = await start();
  // Quotes, spaces, ';' and '%' become '_'; the rest arrives as it is, through filename*.
  assert.match(first.suggestedFilename(), /^postbag-jörg__x____41@例え\.jp-\d{4}-\d\d-\d\d\.mbox$/);
  assert.match(first.url(), STREAMED);
  // The export is then waiting for the download manager's next pull (which the held chunk
  // holds back, as a paused download would): Cancel must end that wait.
  await status.getByText('Exporting 1 of 3').waitFor();
  await page.waitForTimeout(500);
  await status.getByRole('button', { name: 'Cancel export' }).click();
  await status.getByText('Export cancelled: the file was not written.').waitFor({ timeout: 5000 });
  await page.evaluate(() => window.__release());
  assert.notEqual(await first.failure(), null, 'the download failed in the browser');

  // Cancelled in the browser (its download list): the export stops and says why.
  const second = await start();
  await second.cancel();
  await status.getByText('Export failed: writing the file failed: the download was cancelled in the browser').waitFor();
  assert.notEqual(await second.failure(), null);
  await context.close();
});
