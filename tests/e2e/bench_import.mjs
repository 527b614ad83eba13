// Benchmark: mbox import throughput of the web app, and the memory it takes (10,000 messages of
// 20 kB; 1,000 messages of 1 MB), beside the archive's size.
//
//   node tests/e2e/bench_import.mjs      (needs dist/ and target/debug/fixture, like the tests)
//   BENCH_IMPORT_SETS="10000x20000,1000x1000000"   (messages x bytes per message)
//
// Each set is written as an mboxrd file (distinct messages, `From ` body lines quoted), then
// imported from a fresh browser profile through "Import mail (mbox or .eml)" twice: first into
// an empty store, then again (every message found to be there already: the duplicate path).
// Memory is sampled every 100 ms from /proc (the tab's renderers), as RSS before the import
// and its peak. Figures are printed as a table; nothing is asserted except the counts.
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFixture, CHROMIUM_ARGS, CHROMIUM_PATH } from './fixture.mjs';
import { setupAccount } from './app_support.mjs';
import { processes, rss } from './bench_support.mjs';

const SETS = (process.env.BENCH_IMPORT_SETS || '10000x20000,1000x1000000')
  .split(',').map((s) => s.split('x').map(Number));

/** Writes `n` messages of about `size` bytes as an mboxrd file; returns its path. */
function writeMbox(dir, n, size) {
  const path = join(dir, `bench-${n}x${size}.mbox`);
  const fd = openSync(path, 'w');
  const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n';
  const body = filler.repeat(Math.ceil(size / filler.length));
  for (let i = 0; i < n; i++) {
    const head = `From: Sender ${i} <s${i}@example.org>\nSubject: Bench ${i}\nMessage-ID: <${i}@bench>\n`
      + `Date: Tue, 1 Dec 2026 10:00:00 +0000\n\n>From the bench, message ${i}.\n`;
    const text = `${head}${body.slice(0, Math.max(0, size - head.length))}`.replace(/\n?$/, '\n');
    writeSync(fd, `From MAILER-DAEMON Tue Dec  1 10:00:00 2026\n${text}\n`);
  }
  closeSync(fd);
  return path;
}

const mb = (b) => (b / 1e6).toFixed(0);
const rows = [];
const fx = await startFixture();
const work = mkdtempSync(join(tmpdir(), 'postbag-bench-import-'));
try {
  for (const [n, size] of SETS) {
    const file = writeMbox(work, n, size);
    const bytes = statSync(file).size;
    const profile = mkdtempSync(join(tmpdir(), 'postbag-bench-import-profile-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const page = await context.newPage();
      await page.goto(fx.appUrl);
      await setupAccount(page, fx, await fx.newUser(), { policy: 'leave', test: false });
      await page.getByRole('button', { name: 'Settings' }).click();
      for (const [pass, expected] of [['into an empty store', `Imported ${n} messages.`],
        ['again (all already here)', `Imported 0 messages. ${n} messages were already here.`]]) {
        const procs = processes(profile);
        const tabBefore = procs.renderers.reduce((s, p) => s + rss(p), 0);
        let tabPeak = tabBefore;
        const sampler = setInterval(() => {
          tabPeak = Math.max(tabPeak, procs.renderers.reduce((s, p) => s + rss(p), 0));
        }, 100);
        const t0 = performance.now();
        await page.getByLabel('Import mail (mbox or .eml)').setInputFiles(file);
        const status = page.getByRole('status', { name: 'Import status' }).locator('.banner');
        await status.waitFor({ timeout: 1_800_000 });
        const secs = (performance.now() - t0) / 1000;
        clearInterval(sampler);
        const text = (await status.textContent()).trim();
        if (text !== expected) throw new Error(`import of ${n} ${pass}: ${text}`);
        rows.push({
          archive: `${n} × ${size} B = ${mb(bytes)} MB`,
          pass,
          seconds: secs.toFixed(1),
          'msg/s': (n / secs).toFixed(0),
          'MB/s': (bytes / 1e6 / secs).toFixed(1),
          'tab RSS MB (before → peak)': `${mb(tabBefore)} → ${mb(tabPeak)}`,
        });
        console.log(rows.at(-1));
        // The next pass waits for a fresh status line.
        await page.reload();
        await page.getByRole('button', { name: 'Settings' }).click();
      }
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(file);
    }
  }
} finally {
  await fx.close();
  rmSync(work, { recursive: true, force: true });
}
console.table(rows);
