// The app reaches Chromium compressed: its real request for the wasm gets brotli from the real
// proxy (the copies written by the build's hook, scripts/precompress.mjs), the app starts from
// the decoded bytes, and the first visit downloads less than half of the files' own size and no
// more than it may: the wire size is what the bundle budget (README, 400 KB) counts. The app is
// over that budget today (issue 17 is open on it); until it is met this test holds the first
// load to the size reached, CEILING_BYTES, so it cannot grow unnoticed, and prints how far it
// is from the budget. Lower the ceiling as the app shrinks; it becomes the budget once met.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureAndBrowser } from './fixture.mjs';

const env = fixtureAndBrowser();

/** The bundle budget (README): the app's first load, as the browser receives it. */
const BUDGET_BYTES = 400 * 1024;
/**
 * The most the first load may weigh until the budget is met: 703 KB measured on 2026-12-03
 * once the browser normalised search terms and SaslPrep and the app's lists shared one sort
 * (docs/toolchain.md), 711.7 KB with the day's later work (f81bcb8), and about 20 KB of room above
 * that, so that growth fails.
 */
const CEILING_BYTES = 730 * 1024;

test('the app comes compressed: brotli for the wasm, the first load under half its size and no larger than it has been', async () => {
  const page = await env.browser.newPage();
  const responses = [];
  page.on('response', (r) => responses.push(r));
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  await page.goto(env.fx.appUrl);
  // Only the wasm app renders into <body>: it started from the decoded module.
  await page.waitForSelector('body *', { timeout: 15000 });
  await page.waitForLoadState('networkidle');

  const wasm = responses.find((r) => r.url().endsWith('.wasm'));
  assert.ok(wasm, 'the page fetched its wasm module');
  const headers = await wasm.allHeaders();
  assert.equal(headers['content-encoding'], 'br');
  assert.match(headers['vary'] ?? '', /accept-encoding/i);
  const asked = await wasm.request().allHeaders();
  assert.match(asked['accept-encoding'] ?? '', /\bbr\b/);

  // What the page fetched from the proxy: bytes on the wire, and the files' own size.
  let wire = 0;
  let decoded = 0;
  const rows = [];
  for (const r of responses) {
    if (new URL(r.url()).origin !== new URL(env.fx.appUrl).origin) continue;
    if (r.status() !== 200) continue;
    const { responseBodySize } = await r.request().sizes();
    const encoding = (await r.allHeaders())['content-encoding'] ?? 'identity';
    wire += responseBodySize;
    decoded += (await r.body()).length;
    rows.push(`${new URL(r.url()).pathname} ${encoding} ${responseBodySize}`);
  }
  const kb = (n) => (n / 1024).toFixed(1);
  console.log(
    `first load: ${kb(wire)} KB on the wire, ${kb(decoded)} KB decoded; ` +
      `budget ${kb(BUDGET_BYTES)} KB${wire > BUDGET_BYTES ? ' EXCEEDED' : ''}\n  ${rows.join('\n  ')}`,
  );
  assert.ok(wire > 0 && wire < decoded / 2, `${wire} bytes on the wire for ${decoded} decoded`);
  assert.ok(
    wire <= CEILING_BYTES,
    `the first load is ${kb(wire)} KB on the wire, over the ${kb(CEILING_BYTES)} KB it has been held to ` +
      `(the budget is ${kb(BUDGET_BYTES)} KB, README)`,
  );
  assert.deepEqual(problems, []);
});
