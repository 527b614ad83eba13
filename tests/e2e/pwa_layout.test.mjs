// Phone and desktop layout, dark mode, touch targets and font scaling, on a mailbox synced from
// a real Dovecot. With POSTBAG_SCREENSHOTS=1 the screenshots go to docs/screenshots/pwa-*.png
// (committed); otherwise to a temporary directory, so ordinary runs leave the tree alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { screenshotDir, startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { setUpAccount, syncAll, waitForWorker } from './pwa_support.mjs';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const SHOTS = screenshotDir();

const profile = mkdtempSync(join(tmpdir(), 'postbag-layout-profile-'));
const open = async (viewport, colorScheme) => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    viewport,
    colorScheme,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(fx.appUrl);
  await page.locator('.msg-row').first().waitFor({ timeout: 20000 });
  return { context, page };
};
const shot = (page, name) => page.screenshot({ path: join(SHOTS, `pwa-${name}.png`) });
const visible = (page, selector) => page.locator(selector).first().isVisible();
const box = (page, selector) => page.locator(selector).first().boundingBox();

let fx;
before(async () => {
  fx = await startFixture();
  const user = await fx.newUser();
  await fx.deliver(user, 'plain', 6);
  await fx.deliver(user, 'multipart', 1);
  await fx.deliver(user, 'html', 1);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(fx.appUrl);
  await waitForWorker(page);
  await setUpAccount(page, fx, user);
  await syncAll(page, 8);
  await context.close();
});
after(async () => {
  await fx?.close();
});

for (const scheme of ['light', 'dark']) {
  test(`phone (${scheme}): one pane at a time, back to the list, 44 px touch targets`, async () => {
    const { context, page } = await open(PHONE, scheme);
    try {
      assert.equal(await visible(page, '.pb-list'), true);
      assert.equal(await visible(page, '.pb-reader'), false);
      const list = await box(page, '.pb-list');
      assert.ok(list.width >= PHONE.width - 1, `list fills the width (${list.width})`);
      await touchTargetsAtLeast(page, 44);
      await rowsNotClipped(page);
      const bar = await box(page, '.topbar');
      assert.ok(bar.height < 70, `the top bar fits on one line (${bar.height}px)`);
      await shot(page, `phone-${scheme}-list`);

      await page.locator('.msg-row').first().click();
      await page.locator('article.reader').waitFor();
      assert.equal(await visible(page, '.pb-list'), false);
      assert.equal(await visible(page, '.pb-reader'), true);
      assert.equal(await visible(page, '.pb-back'), true);
      await touchTargetsAtLeast(page, 44);
      await shot(page, `phone-${scheme}-message`);

      await page.locator('.pb-back').click();
      assert.equal(await visible(page, '.pb-list'), true);
      assert.equal(await visible(page, '.pb-reader'), false);
    } finally {
      await context.close();
    }
  });

  test(`desktop (${scheme}): list and message side by side, no back button`, async () => {
    const { context, page } = await open(DESKTOP, scheme);
    try {
      await page.locator('.msg-row').nth(1).click();
      await page.locator('article.reader').waitFor();
      const list = await box(page, '.pb-list');
      const reader = await box(page, '.pb-reader');
      assert.ok(reader.x >= list.x + list.width - 1, 'reader to the right of the list');
      assert.ok(Math.abs(reader.y - list.y) < 2, 'same row');
      assert.equal(await visible(page, '.pb-back'), false);
      await rowsNotClipped(page);
      await shot(page, `desktop-${scheme}`);
    } finally {
      await context.close();
    }
  });
}

test('settings show the storage used, available and whether it is durable', async () => {
  const { context, page } = await open(PHONE, 'light');
  try {
    await page.getByRole('button', { name: 'Settings' }).click();
    const panel = page.locator('main.setup postbag-storage');
    await panel.locator('dl').waitFor({ timeout: 10000 });
    const text = await panel.innerText();
    assert.match(text, /Storage on this device/);
    assert.match(text, /Used\s+[\d.]+ (KB|MB)/);
    assert.match(text, /Available\s+[\d.]+ (MB|GB|TB)/);
    assert.match(text, /Durable\s+(yes|no)/);
    await touchTargetsAtLeast(page, 44);
    await panel.scrollIntoViewIfNeeded();
    await shot(page, 'phone-light-settings-storage');
  } finally {
    await context.close();
  }
});

test('dark mode follows prefers-color-scheme', async () => {
  const colours = {};
  for (const scheme of ['light', 'dark']) {
    const { context, page } = await open(PHONE, scheme);
    colours[scheme] = await page.evaluate(() => {
      const s = getComputedStyle(document.body);
      return { bg: s.backgroundColor, fg: s.color };
    });
    await context.close();
  }
  assert.equal(colours.light.bg, 'rgb(246, 247, 249)');
  assert.equal(colours.dark.bg, 'rgb(15, 26, 42)');
  assert.notEqual(colours.light.fg, colours.dark.fg);
});

test("text and controls follow the user's font size", async () => {
  const measure = async (fontSize) => {
    const { context, page } = await open(PHONE, 'light');
    try {
      // Chrome's own "font size" setting, as a user would change it.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Page.setFontSizes', { fontSizes: { standard: fontSize } });
      // The virtualised list re-measures its rows when the font changes; wait until it has.
      await page.waitForFunction(
        (px) => Math.abs(parseFloat(document.querySelector('.msg-list').dataset.rowHeight) - 4.75 * px) < 0.5,
        fontSize,
        { timeout: 5000 },
      );
      return await page.evaluate(() => {
        const rows = [...document.querySelectorAll('.msg-row')].map((r) => r.getBoundingClientRect());
        const snippet = document.querySelector('.msg-row .snippet').getBoundingClientRect();
        return {
          root: parseFloat(getComputedStyle(document.documentElement).fontSize),
          search: document.querySelector('#search').getBoundingClientRect().height,
          brand: parseFloat(getComputedStyle(document.querySelector('.brand')).fontSize),
          rowHeight: rows[0].height,
          rowStep: rows[1].top - rows[0].top,
          snippetOverflow: snippet.bottom - rows[0].bottom,
        };
      });
    } finally {
      await context.close();
    }
  };
  const normal = await measure(16);
  const large = await measure(24);
  assert.equal(normal.root, 16);
  assert.equal(large.root, 24);
  assert.ok(large.brand >= normal.brand * 1.4, `brand ${normal.brand} -> ${large.brand}`);
  assert.ok(large.search >= 24 * 2.75 - 1, `search field ${large.search}px at 24px text`);
  // List rows grow with the text and never overlap or clip their last line.
  for (const m of [normal, large]) {
    assert.ok(Math.abs(m.rowStep - m.rowHeight) < 1, `rows ${m.rowHeight}px high, ${m.rowStep}px apart`);
    assert.ok(m.snippetOverflow <= 0.5, `snippet sticks out of its row by ${m.snippetOverflow}px`);
  }
  assert.ok(large.rowHeight >= normal.rowHeight * 1.45, `rows ${normal.rowHeight} -> ${large.rowHeight}px`);
});

/** Every visible control (buttons, inputs, list rows) is at least `min` px high and wide. */
async function touchTargetsAtLeast(page, min) {
  const small = await page.evaluate((min) => {
    const out = [];
    const selector = 'button, input, select, a[href], [role="button"], .msg-row';
    for (const el of document.querySelectorAll(selector)) {
      // A check box or radio button is hit through the label around it.
      const target = el.matches('input[type=checkbox], input[type=radio]') && el.closest('label');
      const r = (target || el).getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      if (el.closest('.visually-hidden')) continue;
      if (r.height < min - 0.5 || r.width < min - 0.5) {
        out.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || el.type || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
      }
    }
    return out;
  }, min);
  assert.deepEqual(small, [], `controls smaller than ${min}px`);
}

/** No list row cuts off its text (rows have a fixed height in the virtualised list). */
async function rowsNotClipped(page) {
  const clipped = await page.evaluate(() =>
    // The row and its block children: a flex child with overflow hidden shrinks and clips
    // its own text, so the row's scrollHeight alone would not show it.
    [...document.querySelectorAll('.msg-row, .msg-row > *')]
      .filter((el) => getComputedStyle(el).display !== 'inline')
      .filter((el) => el.scrollHeight > el.clientHeight + 1)
      .map((el) => `${el.className} "${el.textContent.slice(0, 30)}": ${el.scrollHeight} > ${el.clientHeight}`),
  );
  assert.deepEqual(clipped, [], 'list rows whose text is cut off');
}
