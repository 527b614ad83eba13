// Helpers shared by the PWA tests and the offline-start benchmark (not a test file itself).
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixture.mjs';

/** A private copy of dist/, so a test can change "the build" without touching others' runs. */
export function copyDist() {
  const dir = mkdtempSync(join(tmpdir(), 'postbag-dist-'));
  cpSync(join(ROOT, 'dist'), dir, { recursive: true });
  return dir;
}

/** Waits until a service worker controls the page and the shell cache is filled. */
export async function waitForWorker(page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
    timeout: 20000,
  });
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return { state: registration.active.state, scope: registration.scope };
  });
}

/** The names of the Cache Storage caches and the URLs each holds, as seen by the page. */
export function cacheContents(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname);
    }
    return out;
  });
}

/** The build the controlling worker serves ({ hash, cache, files }). */
export async function workerBuild(page) {
  await page.waitForFunction(() => window.postbagPwa !== undefined, null, { timeout: 20000 });
  return page.evaluate(() => window.postbagPwa.build());
}

/** Width and height of a PNG, read from its IHDR chunk. */
export function pngSize(bytes) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/**
 * Height of one row of the app's virtualised list at the default 16 px font
 * (ROW_HEIGHT_REM in frontend/src/model/conversations/window.rs). The list states its own row height in
 * `data-row-height`; prefer that, this is the fallback before the list exists.
 */
export const ROW_HEIGHT = 76;

/** Sets up the test user's account through the app's setup form (implicit TLS to Dovecot). */
export async function setUpAccount(page, fx, user) {
  await page.getByLabel('Email address').fill(`${user.name}@example.test`);
  // Leaving the e-mail field fills in a guessed server; let that land before typing over it.
  await page.getByLabel('Email address').press('Tab');
  await page
    .waitForFunction(() => document.querySelector('#f-host')?.value !== '', null, { timeout: 2000 })
    .catch(() => {});
  await page.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('Port', { exact: true }).fill(String(fx.pop3sPort));
  await page.getByLabel('Security', { exact: true }).selectOption('tls');
  // Chosen, not the default: the default depends on whether the browser keeps storage.
  await page.getByLabel('After download').selectOption('delete');
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password or app password').fill(user.password);
  // Checked only on Sync here (automatic checks are tested in app_checking.test.mjs).
  await page.getByLabel('Check for new mail every (minutes)').fill('');
  await page.getByRole('button', { name: 'Save account' }).click();
  await page.locator('.mailbox').waitFor({ timeout: 20000 });
}

/** How many messages the (virtualised) list holds, from the height of its spacer. */
export function listedCount(page) {
  return page
    .locator('.msg-list')
    .evaluate(
      (el, row) =>
        Math.round(parseFloat(el.style.height || '0') / (parseFloat(el.dataset.rowHeight) || row)),
      ROW_HEIGHT,
    );
}

/** Presses Sync and waits until `expected` messages are listed and the sync has finished. */
export async function syncAll(page, expected, timeout = 120000) {
  await page.getByRole('button', { name: 'Sync', exact: true }).click();
  await page.waitForFunction(
    ({ n, row }) => {
      const list = document.querySelector('.msg-list');
      const rowPx = list ? parseFloat(list.dataset.rowHeight) || row : row;
      const listed = list ? Math.round(parseFloat(list.style.height || '0') / rowPx) : 0;
      const idle = [...document.querySelectorAll('.topbar button')].some((b) => b.textContent === 'Sync');
      return listed === n && idle;
    },
    { n: expected, row: ROW_HEIGHT },
    { timeout, polling: 250 },
  );
}
