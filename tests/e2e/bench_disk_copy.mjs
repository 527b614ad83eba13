// Benchmark: what the live copy on disk costs a sync (issue 13, item 4). The same mailbox of
// 1,000 × 20 KB (BENCH_MESSAGES) is synced with delete-after-download twice, in fresh
// contexts: without the copy, and with it on (a folder of the origin's private file system
// stands in for the picked folder, as in app_disk_copy.test.mjs). Then the catch-up: the copy
// turned on after a sync without it writes every stored message.
//
//   POSTBAG_DIST=/tmp/dist node tests/e2e/bench_disk_copy.mjs   (needs target/debug/fixture)
//
// Prints a table; asserts only that every sync completed and every file was written.
import { startFixture, launchBrowser } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';

const MSGS = Number(process.env.BENCH_MESSAGES || 1000);
const SIZE = 20_000;

function picker() {
  window.showDirectoryPicker = async () => (await navigator.storage.getDirectory())
    .getDirectoryHandle('bench', { create: true });
}

const fileCount = (page) => page.evaluate(async () => {
  const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('bench')).getDirectoryHandle('cur');
  let n = 0;
  for await (const _ of dir.keys()) n++;
  return n;
});

async function timedSync(page) {
  const before = Number(await page.locator('.status').getAttribute('data-runs'));
  const t0 = performance.now();
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('.status')?.dataset.runs) > n, before, { timeout: 900_000, polling: 50 });
  const secs = (performance.now() - t0) / 1000;
  const text = await page.getByRole('status', { name: 'Sync status' }).textContent();
  if (!text.includes(`${MSGS} new messages, ${MSGS} removed from the server`)) throw new Error(`sync: ${text}`);
  return secs;
}

async function pickFolder(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const t0 = performance.now();
  await page.getByRole('button', { name: 'Pick a folder' }).click();
  await page.getByRole('status', { name: 'Disk copy status' }).getByText('Every message is also written').waitFor({ timeout: 900_000 });
  const secs = (performance.now() - t0) / 1000;
  await page.getByRole('button', { name: 'Cancel' }).click();
  return secs;
}

const fx = await startFixture();
const browser = await launchBrowser();
const rows = [];
const row = (what, secs) => {
  console.log(`${what}: ${secs.toFixed(2)} s`);
  rows.push({ what, seconds: secs.toFixed(2), 'msg/s': (MSGS / secs).toFixed(0), 'MB/s': ((MSGS * SIZE) / 1e6 / secs).toFixed(2) });
};
try {
  for (const copy of [false, true, false, true]) {
    const user = await fx.newUser();
    await fx.deliver(user, `sized:${SIZE}`, MSGS);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.addInitScript(picker);
    await page.goto(fx.appUrl);
    await setupAccount(page, fx, user, { policy: 'delete', test: false });
    if (copy) await pickFolder(page);
    const secs = await timedSync(page);
    if (copy && (await fileCount(page)) !== MSGS) throw new Error('files missing');
    if (await fx.count(user) !== 0) throw new Error('left on the server');
    row(`sync ${MSGS} × 20 KB, delete after download, copy ${copy ? 'on' : 'off'}`, secs);
    if (!copy) {
      // The catch-up: everything stored, written when the copy is turned on.
      const up = await pickFolder(page);
      if ((await fileCount(page)) !== MSGS) throw new Error('catch-up incomplete');
      row(`catch-up: copy turned on with ${MSGS} × 20 KB stored`, up);
    }
    await ctx.close();
  }
} finally {
  await browser.close();
  await fx.close();
}
console.table(rows);
