// The served app is an installable PWA: Chrome finds no installability errors, the manifest and
// icons are right and served with the right types, the service worker activates, precaches the
// shell of this exact build, and leaves the tunnel alone. Then, with the proxy stopped and the
// browser offline, a cold reload still starts the app from the cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, launchPersistent } from './fixture.mjs';
import { cacheContents, pngSize, waitForWorker, workerBuild } from './pwa_support.mjs';

let fx, context, page;
before(async () => {
  fx = await startFixture();
  context = await launchPersistent();
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(fx.appUrl);
});
after(async () => {
  await context?.close();
  await fx?.close();
});

test('Chrome reports no installability errors', async () => {
  await waitForWorker(page);
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, []);
  const manifest = await cdp.send('Page.getAppManifest');
  assert.deepEqual(manifest.errors, [], 'manifest parse errors');
  assert.match(manifest.url, /\/manifest\.webmanifest$/);
});

test('the manifest says what the app is and is served as application/manifest+json', async () => {
  const response = await page.request.get(new URL('manifest.webmanifest', fx.appUrl).href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'], /^application\/manifest\+json/);
  const m = await response.json();
  assert.equal(m.short_name, 'Postbag');
  assert.match(m.name, /Postbag/);
  assert.equal(m.display, 'standalone');
  assert.equal(m.start_url, '/');
  assert.equal(m.scope, '/');
  assert.match(m.theme_color, /^#[0-9a-f]{6}$/);
  assert.match(m.background_color, /^#[0-9a-f]{6}$/);

  // Every icon is a real PNG of the size it claims; there is a 192, a 512 and a maskable one.
  const seen = [];
  for (const icon of m.icons) {
    const r = await page.request.get(new URL(icon.src, response.url()).href);
    assert.equal(r.status(), 200, icon.src);
    assert.equal(r.headers()['content-type'], 'image/png', icon.src);
    const { width, height } = pngSize(await r.body());
    assert.equal(`${width}x${height}`, icon.sizes, icon.src);
    seen.push(`${icon.sizes} ${icon.purpose}`);
  }
  assert.ok(seen.includes('192x192 any'), seen.join(', '));
  assert.ok(seen.includes('512x512 any'), seen.join(', '));
  assert.ok(seen.includes('512x512 maskable'), seen.join(', '));
});

test('the service worker is active and precaches exactly this build', async () => {
  const worker = await waitForWorker(page);
  assert.equal(worker.state, 'activated');
  assert.equal(new URL(worker.scope).pathname, '/');

  const sw = await page.request.get(new URL('sw.js', fx.appUrl).href);
  assert.match(sw.headers()['cache-control'] ?? '', /no-cache/, 'sw.js must be revalidated');

  const build = await workerBuild(page);
  assert.match(build.hash, /^[0-9a-f]{16}$/);
  const caches = await cacheContents(page);
  assert.deepEqual(Object.keys(caches), [`postbag-shell-${build.hash}`]);
  const paths = caches[`postbag-shell-${build.hash}`];
  assert.equal(paths.length, build.files);
  for (const kind of [/\/index\.html$/, /\.wasm$/, /\.js$/, /\.css$/, /\/icons\/icon-512\.png$/]) {
    assert.ok(paths.some((p) => kind.test(p)), `${kind} missing from ${paths.join(', ')}`);
  }
  assert.ok(!paths.some((p) => p.startsWith('/tunnel')), 'the tunnel must never be cached');
  assert.ok(!paths.includes('/sw.js'), 'the worker must not cache itself');
});

test('the worker answers for the shell but never for the tunnel', async () => {
  const fromWorker = async (path) => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === path),
      page.evaluate((p) => fetch(p).then((r) => r.status).catch(() => 0), path),
    ]);
    return response.fromServiceWorker();
  };
  assert.equal(await fromWorker('/index.html'), true);
  assert.equal(await fromWorker('/tunnel'), false);
  // A file outside the build is not stored either.
  assert.equal(await fromWorker('/not-in-the-build.txt'), false);
  const names = Object.values(await cacheContents(page)).flat();
  assert.ok(!names.includes('/not-in-the-build.txt'));
});

test('with the proxy stopped and the browser offline, a cold reload starts the app', async () => {
  await waitForWorker(page);
  await fx.stopProxy();
  await context.setOffline(true);
  try {
    // Prove the network is really gone: the server cannot be reached.
    const reachable = await page.evaluate(() =>
      fetch('/not-in-the-build.txt', { cache: 'no-store' }).then(() => true, () => false),
    );
    assert.equal(reachable, false);

    const response = await page.reload();
    assert.ok(response.fromServiceWorker(), 'the page came from the service worker');
    assert.equal(await page.title(), 'Postbag');
    // The wasm app mounted: only it renders into <body> (banners aside).
    await page.waitForSelector('body > :not(script):not(.pb-pwa-banner)', { timeout: 15000 });
  } finally {
    await context.setOffline(false);
    await fx.startProxy();
  }
});
