// The update flow: a new build on the server is detected by the open page, which offers
// "Reload to update"; until the user accepts, the page keeps its build and cache; afterwards
// the page runs the new build and the old build's cache is gone.
//
// The test serves a private copy of dist/ and makes "the next build" by changing index.html
// and re-running the same post-build hook Trunk runs (frontend/pwa/build_sw.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startFixture, launchPersistent } from './fixture.mjs';
import { cacheContents, copyDist, waitForWorker, workerBuild } from './pwa_support.mjs';

let fx, context, page, dist;
before(async () => {
  dist = copyDist();
  fx = await startFixture({ dist });
  context = await launchPersistent();
  page = context.pages()[0] ?? (await context.newPage());
});
after(async () => {
  await context?.close();
  await fx?.close();
});

function publishNextBuild() {
  const index = join(dist, 'index.html');
  const html = readFileSync(index, 'utf8');
  writeFileSync(index, html.replace('</head>', '<meta name="postbag-test-build" content="next"></head>'));
  execFileSync('node', [join(ROOT, 'frontend', 'pwa', 'build_sw.mjs'), dist]);
}

test('a new build is offered, installed on request, and replaces the old cache', async () => {
  await page.goto(fx.appUrl);
  await waitForWorker(page);
  const first = await workerBuild(page);
  assert.deepEqual(Object.keys(await cacheContents(page)), [`postbag-shell-${first.hash}`]);
  // No banner for the first install: there was nothing to update from.
  assert.equal(await page.locator('#pb-pwa-update').count(), 0);

  publishNextBuild();
  await page.evaluate(() => window.postbagPwa.checkForUpdate());
  const banner = page.locator('#pb-pwa-update');
  await banner.waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await banner.innerText(), /new version/i);
  if (process.env.POSTBAG_SCREENSHOTS) {
    await page.screenshot({ path: join(ROOT, 'docs', 'screenshots', 'pwa-update-banner.png') });
  }

  // Waiting: both caches exist, the page still runs (and is served) the first build.
  const waiting = Object.keys(await cacheContents(page)).sort();
  assert.equal(waiting.length, 2, waiting.join(', '));
  assert.ok(waiting.includes(`postbag-shell-${first.hash}`));
  assert.equal((await workerBuild(page)).hash, first.hash);
  assert.equal(await page.locator('meta[name=postbag-test-build]').count(), 0);

  await Promise.all([
    page.waitForEvent('load', { timeout: 20000 }),
    banner.getByRole('button', { name: 'Reload to update' }).click(),
  ]);

  await waitForWorker(page);
  const second = await workerBuild(page);
  assert.notEqual(second.hash, first.hash);
  assert.equal(await page.locator('meta[name=postbag-test-build]').count(), 1, 'new index.html');
  await page.waitForFunction(
    async (hash) => (await caches.keys()).join() === `postbag-shell-${hash}`,
    second.hash,
    { timeout: 10000 },
  );
  assert.deepEqual(Object.keys(await cacheContents(page)), [`postbag-shell-${second.hash}`]);
  assert.equal(await page.locator('#pb-pwa-update').count(), 0, 'no banner after the update');
});

test('"Later" keeps the running build until the next visit', async () => {
  const before = await workerBuild(page);
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  writeFileSync(join(dist, 'index.html'), html.replace('content="next"', 'content="third"'));
  execFileSync('node', [join(ROOT, 'frontend', 'pwa', 'build_sw.mjs'), dist]);
  await page.evaluate(() => window.postbagPwa.checkForUpdate());
  const banner = page.locator('#pb-pwa-update');
  await banner.waitFor({ state: 'visible', timeout: 20000 });
  await banner.getByRole('button', { name: 'Later' }).click();
  assert.equal(await banner.count(), 0);
  assert.equal((await workerBuild(page)).hash, before.hash, 'still the running build');
  assert.equal(await page.locator('meta[name=postbag-test-build][content=next]').count(), 1);
});
