// Two tabs of the app, one of them a newer build: the newer one's IndexedDB upgrade must not
// hang behind the old tab. The old tab closes its database connection when asked to and tells
// the user to reload. (The "close other tabs" banner of a blocked upgrade is covered by the
// store's wasm tests: an older build without the close-on-upgrade handler cannot run here.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';

const env = fixtureAndBrowser();

test('an upgrade in another tab closes this tab\'s database and offers a reload', async () => {
  const context = await env.browser.newContext();
  const old = await context.newPage();
  await old.goto(env.fx.appUrl);
  // The app has opened its database once its first screen is up.
  await old.getByLabel('Email address').waitFor({ timeout: 20000 });

  // A newer build in another tab asks for the next schema version.
  const other = await context.newPage();
  await other.goto(env.fx.appUrl);
  await other.getByLabel('Email address').waitFor({ timeout: 20000 });
  const upgraded = await other.evaluate(async () => {
    const current = await new Promise((resolve, reject) => {
      const r = indexedDB.open('postbag');
      r.onsuccess = () => { const v = r.result.version; r.result.close(); resolve(v); };
      r.onerror = () => reject(r.error);
    });
    return await new Promise((resolve) => {
      const r = indexedDB.open('postbag', current + 1);
      const timer = setTimeout(() => resolve({ done: false, blocked: true }), 10000);
      r.onsuccess = () => { clearTimeout(timer); r.result.close(); resolve({ done: true, from: current }); };
      r.onerror = () => { clearTimeout(timer); resolve({ done: false, error: String(r.error) }); };
    });
  });
  assert.ok(upgraded.done, `the upgrade waited on the open tabs: ${JSON.stringify(upgraded)}`);

  // Both app tabs gave their connection up and say why.
  for (const page of [old, other]) {
    const banner = page.getByRole('alert').filter({ hasText: 'Postbag was updated in another tab' });
    await banner.waitFor({ timeout: 5000 });
    await banner.getByRole('button', { name: 'Reload' }).waitFor();
  }
  // (Reloading here would load the same, older build, which cannot open the newer database;
  // in real life the reload fetches the new build.)
  await context.close();
});
