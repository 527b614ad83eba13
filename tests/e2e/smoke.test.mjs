// Smoke test: the app built by `trunk build --release` loads from the real proxy in real
// Chromium, under the proxy's CSP, and starts (the wasm module mounts the app).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';

const env = fixtureAndBrowser();

test('the proxy serves the app, which starts under its CSP', async () => {
  const page = await env.browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  const response = await page.goto(env.fx.appUrl);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'] ?? '', /default-src/);
  assert.equal(await page.title(), 'Postbag');
  // Only the wasm app renders into <body>: an empty body means it did not start.
  await page.waitForSelector('body *', { timeout: 15000 });
  assert.deepEqual(problems, []);
});
