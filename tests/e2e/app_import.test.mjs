// Import (issue 13, part 2): files written by Python's `mailbox` module (an mbox with `From `
// body lines, 8-bit text and a 10 MB message; a Maildir with a seen message in cur/), a cut
// mbox and a binary file, picked in Settings by their accessible names. Every imported message
// must be stored with the bytes Python was given, the cut and the binary file must be named
// with their offsets, and importing the same files again must add nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureAndBrowser } from './fixture.mjs';
import { setupAccount, storedSummaries } from './app_support.mjs';

const env = fixtureAndBrowser();

// Writes the files and prints what the test checks against: each message's bytes (base64) and
// the offset of the cut mbox's last separator.
const WRITE = `
import base64, json, mailbox, os, sys
d = sys.argv[1]
def msg(i, subject, body):
    return (f"From: Writer {i} <w{i}@example.org>\\nTo: you@example.org\\nSubject: {subject}\\n"
            f"Date: Tue, 1 Dec 2026 0{i}:00:00 +0000\\nMessage-ID: <import-{i}@example.org>\\n"
            "Content-Type: text/plain; charset=utf-8\\nContent-Transfer-Encoding: 8bit\\n\\n").encode() + body
mbox_msgs = [
    msg(1, "From lines", b"From the desk of the editor:\\nFrom here on, every line matters.\\nend\\n"),
    msg(2, "Eight bit", "Gr\\u00fc\\u00dfe aus T\\u014dky\\u014d\\n".encode()),
    msg(3, "Large", b"".join(b"line %07d of a large message, padded to be long enough\\n" % n for n in range(180000))),
]
box = mailbox.mbox(os.path.join(d, "archive.mbox")); [box.add(m) for m in mbox_msgs]; box.close()
cut_msgs = [msg(4, "Whole", b"whole\\n"), msg(5, "Cut", b"this one is cut off in the middle\\n")]
box = mailbox.mbox(os.path.join(d, "cut.mbox")); [box.add(m) for m in cut_msgs]; box.close()
data = open(os.path.join(d, "cut.mbox"), "rb").read()
cut_offset = data.rindex(b"\\nFrom ") + 1
open(os.path.join(d, "cut.mbox"), "wb").write(data[:len(data) - 20])
open(os.path.join(d, "photo.bin"), "wb").write(bytes(range(256)) * 40)
md = mailbox.Maildir(os.path.join(d, "Maildir"))
md_msgs = [msg(6, "Seen in Maildir", b"seen\\n"), msg(7, "New in Maildir", b"new\\n")]
keys = [md.add(m) for m in md_msgs]
seen = os.path.join(d, "Maildir", "new", keys[0])
os.rename(seen, os.path.join(d, "Maildir", "cur", keys[0] + ":2,S"))
print(json.dumps({
    "mbox": [base64.b64encode(m).decode() for m in mbox_msgs],
    "whole": base64.b64encode(cut_msgs[0]).decode(),
    "maildir": [base64.b64encode(m).decode() for m in md_msgs],
    "cut_offset": cut_offset,
}))
`;

/** Every imported message's bytes (base64) and read flag, from IndexedDB. */
function importedBodies(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('postbag');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(['summaries', 'bodies']);
      const range = IDBKeyRange.bound(['imported', ''], ['imported', []]);
      const summaries = tx.objectStore('summaries').getAll(range);
      const bodies = tx.objectStore('bodies').getAll(range);
      tx.oncomplete = () => {
        db.close();
        resolve(summaries.result.map((s, i) => {
          let text = '';
          const bytes = new Uint8Array(bodies.result[i]);
          for (let at = 0; at < bytes.length; at += 0x8000) text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
          return { base64: btoa(text), read: s.read, subject: s.subject };
        }));
      };
      tx.onerror = () => reject(tx.error);
    };
  }));
}

test('mbox, Maildir and .eml files import whole, named when not, and only once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postbag-import-'));
  const want = JSON.parse(execFileSync('python3', ['-c', WRITE, dir], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const eml = Buffer.from(want.whole, 'base64');
  writeFileSync(join(dir, 'one.eml'), eml);

  const user = await env.fx.newUser();
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(env.fx.appUrl);
  await setupAccount(page, env.fx, user, { test: false });
  await page.getByRole('button', { name: 'Settings' }).click();

  const status = page.getByRole('status', { name: 'Import status' }).locator('.banner');
  await page.getByLabel('Import mail (mbox or .eml)').setInputFiles(
    ['archive.mbox', 'cut.mbox', 'photo.bin'].map((f) => join(dir, f)));
  await status.waitFor({ timeout: 60000 });
  assert.equal(
    (await status.textContent()).trim(),
    `Imported 4 messages. Not imported (2): cut.mbox at offset ${want.cut_offset}: the file ends inside this message: it looks cut off; `
    + 'photo.bin at offset 0: it is neither an mbox file nor a message (it does not start with "From " or a header).',
  );

  await page.getByLabel('Import a Maildir folder').setInputFiles(join(dir, 'Maildir'));
  await status.getByText('Imported 2 messages.').waitFor({ timeout: 30000 });

  // The cut mbox's whole first message is the same message as one.eml: not added again.
  await page.getByLabel('Import mail (mbox or .eml)').setInputFiles([join(dir, 'archive.mbox'), join(dir, 'one.eml')]);
  await status.getByText('Imported 0 messages. 4 messages were already here.').waitFor({ timeout: 60000 });

  const stored = await importedBodies(page);
  const expected = [...want.mbox, want.whole, ...want.maildir];
  assert.deepEqual(stored.map((m) => m.base64).sort(), expected.sort(), 'each message has the bytes Python was given');
  const flags = Object.fromEntries(stored.map((m) => [m.subject, m.read]));
  assert.equal(flags['Seen in Maildir'], true, 'the S flag of cur/…:2,S reads as read');
  assert.equal(flags['New in Maildir'], false);
  const summaries = await storedSummaries(page);
  assert.equal(summaries.filter((s) => s.account === 'imported').length, 6);
  assert.equal(summaries.filter((s) => s.account === `${user.name}@example.org`).length, 0, 'nothing lands in the account');
  assert.ok(readFileSync(join(dir, 'archive.mbox')).includes('\n>From the desk'), 'Python quoted the From lines');

  // Imported mail has a folder of its own, read with the same reader; the inbox stays empty.
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('tab', { name: 'Imported' }).click();
  await page.getByRole('listbox', { name: 'Messages' }).getByRole('option', { name: /Eight bit/ }).click();
  await page.locator('.reader-pane').getByText('Grüße aus Tōkyō').waitFor();
  assert.match(await page.locator('.msg-count').textContent(), /^6 messages/);
  await page.getByRole('tab', { name: 'Inbox' }).click();
  await page.getByText('No messages yet.', { exact: false }).waitFor();
  await context.close();
});
