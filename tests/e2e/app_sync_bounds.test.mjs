// A proxy that accepts the WebSocket and then never answers (a network dropping packets, a hung
// proxy): "Connecting…" must not hold the sync, and Cancel must end it at once.
// Real app, real Chromium; the tunnel is routed to a Playwright mock that stays silent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';

const env = fixtureAndBrowser();

test('Cancel ends a sync that is still connecting to a silent proxy', async () => {
  const user = await env.fx.newUser();
  await env.fx.deliver(user, 'plain', 2);
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(env.fx.appUrl);
  await setupAccount(page, env.fx, user, { test: false });
  // From here on the tunnel opens (the mock accepts it) but no answer ever comes.
  const opened = [];
  await page.routeWebSocket(/\/tunnel/, (ws) => {
    ws.onMessage((m) => opened.push(String(m).slice(0, 20)));
  });
  await page.getByRole('button', { name: 'Sync' }).click();
  await page.getByText('Connecting…').waitFor();
  for (let i = 0; i < 50 && opened.length === 0; i++) await page.waitForTimeout(100);
  assert.ok(opened.some((m) => m.includes('"open"')), `the app asked to open: ${opened}`);
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Cancel' }).click();
  const status = page.getByRole('status', { name: 'Sync status' }).locator('.banner.ok, .banner.error, .banner.offline');
  await status.first().waitFor({ timeout: 3000 });
  assert.match(await status.first().textContent(), /sync cancelled/);
  assert.ok(Date.now() - t0 < 3000, 'ended within 3 s of Cancel');
  assert.equal(await env.fx.count(user), 2, 'nothing touched on the server');
  await context.close();
});
