// Durable storage: the first quota check asks for persistence and shows the answer; a batch
// that would not fit in the quota is refused with a warning before any download; the
// <postbag-storage> settings panel shows usage, free space and durability.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, launchPersistent } from './fixture.mjs';

const MB = 1024 * 1024;

let fx, context, page;
before(async () => {
  fx = await startFixture();
  context = await launchPersistent();
  page = context.pages()[0] ?? (await context.newPage());
  // A small quota, as on a nearly full phone, so "does not fit" is reachable in a test. Chrome
  // 156's CDP Storage.overrideQuotaForOrigin does not change what estimate() reports, so the
  // page's view of the quota is capped instead; usage stays the browser's real figure.
  await context.addInitScript((quota) => {
    const real = navigator.storage.estimate.bind(navigator.storage);
    navigator.storage.estimate = async () => ({ ...(await real()), quota });
  }, 40 * MB);
  await page.goto(fx.appUrl);
  await page.waitForFunction(() => window.postbagStorage !== undefined, null, { timeout: 20000 });
});
after(async () => {
  await context?.close();
  await fx?.close();
});

const ensureRoom = (bytes) => page.evaluate((b) => window.postbagStorage.ensureRoom(b), bytes);

test('the first check asks for durable storage once and shows the answer', async () => {
  const room = await ensureRoom(1 * MB);
  assert.equal(room.ok, true);
  assert.equal(room.quota, 40 * MB);
  assert.ok(room.available > 30 * MB && room.available <= 40 * MB, `${room.available}`);
  const notice = page.locator('#pb-pwa-storage-notice');
  await notice.waitFor({ state: 'visible' });
  // Headless Chrome without engagement denies persistence; either answer must be shown.
  const expected = room.persisted ? /durable/ : /may clear stored mail/;
  assert.match(await notice.innerText(), expected);
  // It does not cover the settings form's buttons on a laptop screen.
  await page.setViewportSize({ width: 1280, height: 900 });
  const save = await page.getByRole('button', { name: 'Save account' }).boundingBox();
  const box = await notice.boundingBox();
  const overlap = !(box.x + box.width <= save.x || save.x + save.width <= box.x
    || box.y + box.height <= save.y || save.y + save.height <= box.y);
  assert.ok(!overlap, `notice ${JSON.stringify(box)} over Save ${JSON.stringify(save)}`);
  const asked = await page.evaluate(() => localStorage.getItem('postbag.persistence-asked'));
  assert.equal(asked, room.persisted ? 'granted' : 'denied');

  // Later checks do not ask again (no new notice).
  await notice.getByRole('button', { name: 'OK' }).click();
  assert.equal((await ensureRoom(1 * MB)).ok, true);
  assert.equal(await notice.count(), 0);
});

test('a batch that would not fit is refused up front, with a warning', async () => {
  const room = await ensureRoom(60 * MB);
  assert.equal(room.ok, false);
  assert.ok(room.needed > room.available, JSON.stringify(room));
  const warning = page.locator('#pb-pwa-storage-notice[role=alert]');
  await warning.waitFor({ state: 'visible' });
  assert.match(await warning.innerText(), /Not enough storage for 60 MB/);

  // The margin counts: a batch just under the free space still does not fit.
  const close = await ensureRoom(room.available - 1 * MB);
  assert.equal(close.ok, false);
  const fits = await ensureRoom(10 * MB);
  assert.equal(fits.ok, true);
});

test('the settings panel shows usage, free space and durability', async () => {
  // Some real data, so usage is not zero.
  await page.evaluate(async () => {
    const cache = await caches.open('postbag-storage-test');
    await cache.put('/storage-test', new Response('x'.repeat(2 * 1024 * 1024)));
  });
  // Placed the way the settings view places it.
  await page.evaluate(() => {
    const panel = document.createElement('postbag-storage');
    panel.id = 'storage-panel-under-test';
    document.body.append(panel);
  });
  const panel = page.locator('#storage-panel-under-test');
  await panel.locator('dl').waitFor();
  const text = await panel.innerText();
  assert.match(text, /Storage on this device/);
  assert.match(text, /Used\s+[\d.]+ (KB|MB)/);
  assert.match(text, /Available\s+[\d.]+ MB/);
  assert.match(text, /Durable\s+(yes|no)/);
  const meter = await panel.locator('meter').evaluate((m) => ({ value: m.value, max: m.max }));
  assert.equal(meter.max, 40 * MB);
  assert.ok(meter.value >= 2 * MB, `usage ${meter.value}`);
  await page.evaluate(() => caches.delete('postbag-storage-test'));
});
